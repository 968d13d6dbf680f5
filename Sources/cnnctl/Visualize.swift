import ArgumentParser
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import CNNVisual
import Foundation

struct Visualize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pictures of a network: a convolution's filters, or a layer's feature maps for one input, as PNG.",
        subcommands: [Filters.self, Activations.self])

    /// The options both pictures take.
    struct Picture: ParsableArguments {
        @Argument(help: "The config the model was trained with.") var config: String
        @Option(help: "A .safetensors checkpoint (without one: the initial weights of seed 1).") var checkpoint: String?
        @Option(help: "The layer's full name, as summarize shows it.") var layer: String
        @Option(name: .shortAndLong, help: "The PNG file to write.") var output: String
        @Option(help: "Tile scaling: tile (each tile to its own range) or shared (one range for all).")
        var scale = TileGrid.Scaling.perTile
        @Option(help: "Screen pixels per value (default: about 64 pixels per tile side).") var zoom: Int?

        func validate() throws { try checkOption("zoom", zoom, 1...64) }

        /// The model with the checkpoint's weights, every node keeping its own output.
        func executor(_ graph: Graph) throws -> (Executor, CheckpointMetadata) {
            try CheckpointExecutor.load(graph, checkpoint: checkpoint, maxBatch: 1, separateNodes: true)
        }

        func write(_ tiles: [Tile], columns: Int) throws {
            let image = TileGrid.render(tiles, columns: columns, zoom: zoom ?? TileGrid.zoom(for: tiles[0]), scaling: scale)
            try AtomicFile.write(PNGEncoder.encode(image), to: output)
        }

        var weightsNote: String { checkpoint == nil ? " (initial weights, seed 1: no --checkpoint)" : "" }
        var scaleNote: String { scale == .shared ? "one range for all tiles" : "each tile scaled to its own range" }
    }

    struct Filters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every filter of a convolution as a tile: colour for 3 input channels, else their mean (or each).")
        @OptionGroup var picture: Picture
        @Option(help: "Input channels as tiles: color (3 channels), mean, or each (a row per filter).")
        var channels: WeightTiles.Channels?

        func run() throws {
            let message = try Failure.reporting { () throws -> String in
                let graph = try ConfigFile.load(picture.config).buildGraph()
                let name = picture.layer + ".weight"
                guard let spec = graph.parameters.first(where: { $0.name == name }), spec.spec.shape.rank == 4 else {
                    let convolutions = graph.parameters.filter { $0.spec.shape.rank == 4 && $0.name.hasSuffix(".weight") }
                        .map { String($0.name.dropLast(7)) }
                    throw ConfigError(file: picture.config, place: "model", message: "\"\(picture.layer)\" has no "
                                      + "convolution weight [F, C, kh, kw]; layers with one: "
                                      + convolutions.prefix(12).joined(separator: ", ") + (convolutions.count > 12 ? ", …" : ""))
                }
                if channels == .color && spec.spec.shape[1] != 3 {
                    throw ValidationError("--channels color needs 3 input channels; \(picture.layer) has \(spec.spec.shape[1])")
                }
                let (executor, _) = try picture.executor(graph)
                let weight = executor.parameter(named: name)!
                let (tiles, columns, mode) = WeightTiles.filters(weight.array, shape: spec.spec.shape.dims, channels: channels)
                try picture.write(tiles, columns: columns)
                let s = spec.spec.shape
                let how = mode == .color ? "in colour (RGB)" : s[1] == 1 ? "in grey"
                    : mode == .mean ? "averaged over the \(s[1]) input channels"
                    : "a row per filter, a tile per input channel"
                return "wrote \(picture.output): \(s[0]) filters of \(picture.layer) (\(s[1])×\(s[2])×\(s[3])), \(how); "
                    + picture.scaleNote + picture.weightsNote
            }
            print(message)
        }
    }

    struct Activations: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A layer's feature maps [C, H, W] for one input (an image file, or a dataset sample), as tiles.")
        @OptionGroup var picture: Picture
        @Option(help: "An image file, read as the config's evaluation sets are.") var input: String?
        @Option(help: "A dataset sample instead: the split.") var split: Predict.Split?
        @Option(help: "With --split: the sample's index.") var index = 0

        func validate() throws {
            if (input == nil) == (split == nil) { throw ValidationError("give --input IMAGE or --split (with --index)") }
            try checkOption("index", index, 0...Int(Int32.max))
        }

        func run() throws {
            let message = try Failure.reporting { () throws -> String in
                let file = try ConfigFile.load(picture.config)
                let graph = try file.buildGraph()
                guard let node = graph.nodes.firstIndex(where: { $0.layer.name == picture.layer }) else {
                    throw ConfigError(file: picture.config, place: "model", message: "no layer named \"\(picture.layer)\"")
                }
                let shape = graph.nodes[node].layer.outputShape
                guard shape.rank == 3 else {
                    throw ConfigError(file: picture.config, place: "model", message: "\(picture.layer)'s output is \(shape); "
                                      + "feature maps are [C, H, W]")
                }
                let (executor, metadata) = try picture.executor(graph)
                let (sample, what) = try inputSample(file, graph: graph, metadata: metadata)
                var rng = RNG(seed: 0)
                executor.forward(sample, training: false, rng: &rng)
                let (tiles, columns) = WeightTiles.featureMaps(executor.output(ofNode: node, batch: 1).array, shape: shape.dims)
                try picture.write(tiles, columns: columns)
                return "wrote \(picture.output): the \(shape[0]) feature maps (\(shape[1])×\(shape[2])) of \(picture.layer) "
                    + "for \(what); " + picture.scaleNote + picture.weightsNote
            }
            print(message)
        }

        /// The input as a batch of one, prepared as evaluation prepares it, and how to name it.
        private func inputSample(_ file: ConfigFile, graph: Graph, metadata: CheckpointMetadata) throws -> (Tensor, String) {
            guard let dataJSON = file.data else {
                throw ConfigError(file: picture.config, place: "", message: "missing \"data\" section (the input is read "
                                  + "as the evaluation sets are)")
            }
            let base = (picture.config as NSString).deletingLastPathComponent
            let set: LabeledDataset, normalization: Normalization?
            if let split {
                let (data, chosen, _) = try Predict.samples(config: picture.config, split: split, dataJSON, base: base,
                                                            graph: graph) { try Predict.parse(indices: String(index), count: $0) }
                (set, normalization) = (chosen, data.normalization)
            } else {
                (set, _, _) = try CheckpointExecutor.imageFiles(
                    [input!], config: picture.config, data: dataJSON, graph: graph, metadata: metadata, skip: false,
                    threads: 1, classCount: 1, command: "visualize", samplesOption: "--split (and --index)")
                normalization = nil
            }
            var sample: Tensor?
            try BatchLoader(dataset: set, batchSize: 1, shuffle: false, seed: 0, normalization: normalization,
                            augmentation: nil, workers: 1).forEachBatch(epoch: 0) { batch in
                sample = Tensor(shape: batch.images.shape)
                sample!.data.update(from: batch.images.data, count: batch.images.count)
                return false
            }
            return (sample!, split.map { "\($0.rawValue) sample \(index)" } ?? input!)
        }
    }
}

extension TileGrid.Scaling: ExpressibleByArgument {}
extension WeightTiles.Channels: ExpressibleByArgument {}
