import ArgumentParser
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

/// `predict` on a segmentation model (first output `[K, H, W]`): the class of every pixel of each
/// input, written to `--masks DIR` as `NAME.png` (a palette PNG of class indices, Pascal VOC's
/// format) and `NAME-overlay.png` (the mask's colours over the image), with the class shares
/// printed per input.
extension Predict {
    func predictMasks(graph: Graph, file: ConfigFile) throws {
        guard let directory = masks else {
            throw ValidationError("this model predicts a class per pixel (\(graph.nodes[graph.outputs[0]].layer.outputShape)): "
                                  + "give --masks DIR to write the masks there")
        }
        guard let dataJSON = file.data else {
            throw ConfigError(file: config, place: "", message: "missing \"data\" section (predict reads new inputs "
                              + "as its evaluation sets are read)")
        }
        let batch = max(1, batch), input = graph.inputShape
        let (executor, metadata) = try CheckpointExecutor.load(graph, checkpoint: checkpoint, maxBatch: batch)
        let base = (config as NSString).deletingLastPathComponent
        let (set, normalization, names) = try inputs(dataJSON, base: base, graph: graph, metadata: metadata)
        let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let predicted = try Predictor.predictMasks(executor: executor, dataset: set, normalization: normalization,
                                                   batchSize: batch, workers: workers)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (channels, height, width) = (input[0], input[1], input[2])
        let classNames = metadata.classNames ?? set.classNames ?? []
        var results: [JSONValue] = []
        for (n, mask) in predicted.enumerated() {
            let stem = (names[n] as NSString).lastPathComponent.split(separator: ".").first.map(String.init) ?? names[n]
            let maskPath = directory + "/" + stem + ".png", overlayPath = directory + "/" + stem + "-overlay.png"
            try AtomicFile.write(PNGEncoder.encodeIndices(mask, width: width, height: height), to: maskPath)
            let overlay = set.values.withUnsafeBufferPointer {
                SegmentationOverlay.render(image: UnsafeBufferPointer(rebasing: $0[n * channels * height * width..<(n + 1) * channels * height * width]),
                                           channels: channels, width: width, height: height, mask: mask)
            }
            try AtomicFile.write(PNGEncoder.encode(overlay), to: overlayPath)
            var counts = [Int](repeating: 0, count: 256)
            for c in mask { counts[Int(c)] += 1 }
            let shares = counts.enumerated().filter { $0.element > 0 }.sorted { $0.element > $1.element }
            func name(_ k: Int) -> String { k < classNames.count ? classNames[k] : "\(k)" }
            switch format {
            case .table:
                print("\(names[n]) → \(maskPath): " + shares.prefix(4).map {
                    "\(name($0.offset)) \(String(format: "%.1f%%", 100 * Double($0.element) / Double(mask.count)))"
                }.joined(separator: ", "))
            case .json, .csv:
                results.append(.object(JSONObject([
                    (split == nil ? "path" : "index", split == nil ? .string(names[n]) : .int(Int(names[n]) ?? n)),
                    ("mask", .string(maskPath)), ("overlay", .string(overlayPath)),
                    ("pixels", .object(JSONObject(shares.map { (name($0.offset), .int($0.element)) })))])))
            }
        }
        if format != .table {
            print(JSONValue.object(JSONObject([("checkpoint", .string(checkpoint)), ("masks", .array(results))]))
                .serialized(indent: ""))
        }
    }

    /// The samples to segment (a split's, or image files at the model's input size, `[0, 1]`
    /// values as stored), the normalization to apply, and each one's name.
    private func inputs(_ dataJSON: JSONValue, base: String, graph: Graph, metadata: CheckpointMetadata) throws
        -> (LabeledDataset, Normalization?, [String]) {
        if let split {
            let (data, set, chosen) = try samples(of: split, dataJSON, base: base, graph: graph)
            return (set, data.normalization, chosen.map(String.init))
        }
        let input = graph.inputShape
        let (set, files) = try SegmentationFolder.unlabeled(paths: paths, shape: input)
        let normalization = try metadata.evalNormalization
            ?? DataSpec.load(dataJSON, path: "data", file: config, baseDirectory: base, inputChannels: input[0]).normalization
        return (set, normalization, files)
    }
}
