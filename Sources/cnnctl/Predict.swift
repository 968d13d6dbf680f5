import ArgumentParser
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify image files, texts or dataset samples with a checkpoint: top-K classes and probabilities, or masks.",
        discussion: """
            PATHs are image files or folders (searched recursively for .png, .jpg, .jpeg), read as the \
            config's evaluation sets are: its "eval" transforms, its channels, its normalization (the \
            statistics kept in the checkpoint for "auto"). For IDX, CIFAR-10 and text configs, --split \
            and --indices pick dataset samples instead. A file that cannot be read is an error naming \
            it, or with --skip-bad is left out and counted at the end. A segmentation model (first output \
            [K, H, W]) writes each input's mask and overlay to --masks DIR instead. A text classifier \
            takes --text (repeatable) or --text-file (one text per line), encoded with the word \
            vocabulary its checkpoint keeps.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }
    enum Split: String, ExpressibleByArgument, CaseIterable { case test, validation, train }

    @Argument(help: "The config the model was trained with.") var config: String
    @Argument(help: "Image files or folders.") var paths: [String] = []
    @Option(help: "A .safetensors checkpoint (e.g. runs/<run>/best.safetensors).") var checkpoint: String
    @Option(help: "Classes listed per input.") var top = 5
    @Option(help: "Output format: table, json or csv.") var format = Format.table
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Dataset samples instead of files: which split.") var split: Split?
    @Option(help: "With --split: sample indices, e.g. 0,5,10-19 (default: all).") var indices: String?
    @Flag(help: "Leave out files that cannot be read (counted at the end) instead of stopping.") var skipBad = false
    @Option(help: "For a segmentation model: the folder for each input's mask (NAME.png) and overlay (NAME-overlay.png).")
    var masks: String?
    @Option(help: "A text to classify (repeatable), for a text classifier.") var text: [String] = []
    @Option(help: "A UTF-8 file of texts to classify, one per line.") var textFile: String?

    func validate() throws {
        try checkOption("top", top, 1...100_000)
        try checkOption("batch", batch, Limits.batch)
        if [!paths.isEmpty, split != nil, classifiesTexts].filter({ $0 }).count != 1 {
            throw ValidationError("give image files or folders, --split (with optional --indices), or --text / "
                                  + "--text-file: one of them")
        }
        if indices != nil && split == nil { throw ValidationError("--indices needs --split") }
        // The syntax here; the bounds once the split's size is known.
        if let indices { _ = try Self.parse(indices: indices, count: Int.max) }
    }

    func run() throws {
        let file = try Failure.reporting { try ConfigFile.load(config) }
        let graph = try Failure.reporting { try file.buildGraph() }
        if graph.nodes[graph.outputs[0]].layer.outputShape.rank == 3 {
            return try Failure.reporting { try predictMasks(graph: graph, file: file) }
        }
        let (predictions, names, skipped) = try Failure.reporting {
            if classifiesTexts {
                let (predictions, names) = try predictTexts(graph: graph)
                return (predictions, names, [String]())
            }
            return try predictAll(graph: graph, file: file)
        }
        let key = split != nil ? "index" : paths.isEmpty ? "text" : "path"
        let classNames = names
        func name(_ k: Int) -> String { k < classNames.count ? classNames[k] : "\(k)" }
        switch format {
        case .json:
            var object = JSONObject()
            object["checkpoint"] = .string(checkpoint)
            object["predictions"] = .array(predictions.map { item in
                .object(JSONObject([
                    (key, split == nil ? .string(item.0) : .int(Int(item.0)!)),
                    ("top", .array(item.1.top(top).map {
                        .object(JSONObject([("class", .string(name($0.index))), ("index", .int($0.index)),
                                            ("probability", .double(Double($0.probability)))]))
                    })),
                    ("probabilities", .array(item.1.probabilities.map { .double(Double($0)) })),
                ]))
            })
            object["skipped"] = .array(skipped.map { .string($0) })
            print(JSONValue.object(object).serialized(indent: ""))
        case .csv:
            let k = min(top, predictions.first?.1.probabilities.count ?? top)
            let header = [key] + (1...k).flatMap { ["class_\($0)", "probability_\($0)"] }
            let rows = predictions.map { label, p in [label] + p.top(k).flatMap { [name($0.index), "\($0.probability)"] } }
            print(try CSVText.render([header] + rows), terminator: "")
        case .table:
            let width = min(60, predictions.map(\.0.count).max() ?? 4)
            for (label, p) in predictions {
                let shown = p.top(top).map { "\(name($0.index)) \(String(format: "%.4f", $0.probability))" }
                print(label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0) + "  "
                      + shown.joined(separator: "   "))
            }
        }
        if !skipped.isEmpty {
            Failure.printError("predict: skipped \(skipped.count) unreadable file(s): "
                               + skipped.prefix(3).joined(separator: "; ") + (skipped.count > 3 ? "; …" : ""))
        }
    }

    /// (path or index, prediction) per input, the class names, and the skipped files.
    private func predictAll(graph: Graph, file: ConfigFile) throws -> ([(String, Predictor.Prediction)], [String], [String]) {
        let output = graph.nodes[graph.outputs[0]].layer.outputShape
        guard output.rank == 1 else {
            throw ConfigError(file: config, place: "model", message: "predict needs a classifier whose first output "
                              + "is [classes]; this one is \(output)")
        }
        guard let dataJSON = file.data else {
            throw ConfigError(file: config, place: "", message: "missing \"data\" section (predict reads new inputs "
                              + "as its evaluation sets are read)")
        }
        let batch = max(1, batch)
        let (executor, metadata) = try CheckpointExecutor.load(graph, checkpoint: checkpoint, maxBatch: batch)
        var names = metadata.classNames ?? []
        let base = (config as NSString).deletingLastPathComponent
        let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        if let split {
            let (data, set, chosen) = try samples(of: split, dataJSON, base: base, graph: graph)
            if names.isEmpty { names = set.classNames ?? [] }
            let predictions = try Predictor.predict(executor: executor, dataset: set, normalization: data.normalization,
                                                    batchSize: batch, workers: data.loaderThreads)
            return (zip(chosen.map(String.init), predictions).map { ($0, $1) }, names, [])
        }
        let (set, skipped, classNames) = try CheckpointExecutor.imageFiles(
            paths, config: config, data: dataJSON, graph: graph, metadata: metadata, skip: skipBad, threads: workers,
            classCount: output[0], command: "predict", samplesOption: "--split (and --indices)")
        if names.isEmpty { names = classNames ?? [] }
        let predictions = try Predictor.predict(executor: executor, dataset: set, normalization: nil, batchSize: batch,
                                                workers: workers)
        return (zip(set.images!.files, predictions).map { ($0, $1) }, names, skipped)
    }

    /// The `--split` set's `--indices` samples (all without it).
    func samples(of split: Split, _ dataJSON: JSONValue, base: String, graph: Graph) throws
        -> (data: LoadedData, set: LabeledDataset, indices: [Int]) {
        try Self.samples(config: config, split: split, dataJSON, base: base, graph: graph) { count in
            try indices.map { try Self.parse(indices: $0, count: count) } ?? Array(0..<count)
        }
    }

    /// The samples `choose(count)` of `split` of the data section `dataJSON` of `config`, checked
    /// against the model, and the data they come from.
    static func samples(config: String, split: Split, _ dataJSON: JSONValue, base: String, graph: Graph,
                        choose: (Int) throws -> [Int]) throws -> (data: LoadedData, set: LabeledDataset, indices: [Int]) {
        let channels = graph.inputShape.rank == 3 ? graph.inputShape[0] : nil
        let data = try DataSpec.load(dataJSON, path: "data", file: config, baseDirectory: base, inputChannels: channels)
        let set: LabeledDataset? = switch split {
        case .test: data.test
        case .validation: data.validation
        case .train: data.train
        }
        guard let set else { throw ConfigError(file: config, place: "data", message: "has no \(split.rawValue) set") }
        try DataCompatibility.checkEvaluable(set, role: split.rawValue, by: graph, file: config)
        let chosen = try choose(set.count)
        return (data, set.subset(chosen, name: set.name), chosen)
    }

    /// "0,5,10-19" → [0, 5, 10, …, 19], each below `count`.
    static func parse(indices text: String, count: Int) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let lo = bounds[0], let hi = bounds.last!, lo <= hi, lo >= 0 else {
                throw ValidationError("--indices: \"\(part)\" is not an index or a range such as 10-19")
            }
            guard hi < count else {
                throw ValidationError("--indices: \"\(part)\" is not within the split's samples 0...\(count - 1)")
            }
            guard hi - lo < 10_000_000 - out.count else {
                throw ValidationError("--indices: more than 10,000,000 samples")
            }
            out += Array(lo...hi)
        }
        return out
    }
}
