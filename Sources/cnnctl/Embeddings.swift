import ArgumentParser
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNLayers
import CNNTraining
import CNNVisual
import Foundation

struct Embeddings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embedding vectors for the TensorBoard Embedding Projector, and their 2-D PCA as SVG.",
        discussion: """
            For an embedding layer, its table's rows, labelled with the tokens of the vocabulary the \
            checkpoint keeps (words or characters). For any other layer, its outputs for dataset \
            samples (--split, default test; e.g. the layer before the classifier), labelled with their \
            classes. Writes DIR/vectors.tsv, DIR/metadata.tsv (load both at projector.tensorflow.org) and \
            DIR/pca.svg, the first two principal components (LAPACK ssyevd) with the most frequent tokens \
            or the classes marked.
            """)

    @Argument(help: "The config the model was trained with.") var config: String
    @Option(help: "A .safetensors checkpoint.") var checkpoint: String
    @Option(help: "The layer's full name, as summarize shows it.") var layer: String
    @Option(name: .shortAndLong, help: "The directory to write.") var output: String
    @Option(help: "For a layer other than an embedding: the samples' split.") var split = Predict.Split.test
    @Option(help: "The most vectors written (table rows or samples).") var limit = 10_000
    @Option(help: "Tokens named in the PCA picture (the most frequent).") var labels = 40

    func validate() throws {
        try checkOption("limit", limit, 2...1_000_000)
        try checkOption("labels", labels, 0...1_000)
    }

    func run() throws {
        let summary = try Failure.reporting { () throws -> String in
            let file = try ConfigFile.load(config)
            let graph = try file.buildGraph()
            guard let node = graph.nodes.firstIndex(where: { $0.layer.name == layer }) else {
                throw ConfigError(file: config, place: "model", message: "no layer named \"\(layer)\"")
            }
            let (executor, metadata) = try CheckpointExecutor.load(graph, checkpoint: checkpoint, maxBatch: 64,
                                                                   separateNodes: true)
            let points = graph.nodes[node].layer is any IndexReading
                ? try tableRows(executor, metadata: metadata)
                : try layerOutputs(executor, node: node, file: file, metadata: metadata)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            try AtomicFile.write(Array(EmbeddingProjection.vectorsTSV(points.vectors, count: points.count,
                                                                     dimension: points.dimension).utf8),
                                 to: output + "/vectors.tsv")
            try AtomicFile.write(Array(EmbeddingProjection.metadataTSV(columns: points.columns, rows: points.metadata).utf8),
                                 to: output + "/metadata.tsv")
            let pca = try PCA(rows: points.vectors, count: points.count, dimension: points.dimension,
                              components: min(2, points.dimension))
            var projected = pca.project(points.vectors, count: points.count)
            if points.dimension == 1 { projected = projected.flatMap { [$0, 0] } }
            let ratios = pca.explainedRatios.map { String(format: "%.1f%%", 100 * $0) }
            let svg = EmbeddingProjection.scatterSVG(
                points: projected, groups: points.groups, labels: points.labels, groupNames: points.groupNames,
                title: "\(layer): \(points.count) vectors of \(points.dimension), PCA (\(points.what))",
                axes: ("PC1 (\(ratios[0]) of the variance)", "PC2 (\(ratios.count > 1 ? ratios[1] : "0%"))"))
            try AtomicFile.write(Array(svg.utf8), to: output + "/pca.svg")
            return "wrote \(output)/vectors.tsv, metadata.tsv (\(points.count) vectors of \(points.dimension), \(points.what)) "
                + "and pca.svg (PC1 \(ratios[0]), PC2 \(ratios.count > 1 ? ratios[1] : "—") of the variance)"
        }
        print(summary)
    }

    /// What is written: vectors row-major, the metadata table, and the picture's groups and labels.
    struct Points {
        var vectors: [Float], count: Int, dimension: Int
        var columns: [String], metadata: [[String]]
        var groups: [Int], groupNames: [String], labels: [String?]
        var what: String
    }

    /// An embedding table's rows for the vocabulary's tokens (words most frequent first, so the
    /// first `labels` non-special words are named; characters all named when few).
    private func tableRows(_ executor: Executor, metadata: CheckpointMetadata) throws -> Points {
        guard let weight = executor.parameter(named: layer + ".weight") else {
            throw RunError("\(layer) has no weight table")
        }
        let d = weight.shape[1]
        guard let all = metadata.words?.words ?? metadata.vocabulary?.displayNames else {
            throw RunError("\(checkpoint) keeps no vocabulary (words or characters), so the table's rows have no tokens")
        }
        let tokens = Array(all.prefix(min(limit, weight.shape[0]))), n = tokens.count, words = metadata.words != nil
        guard n >= 2 else { throw RunError("\(layer): \(n) row(s) to project; PCA needs at least 2") }
        // Words come most frequent first after <pad> and <unk>.
        let firstWord = Int(WordVocabulary.unknownIndex) + 1
        let named = words ? Set(firstWord..<min(n, firstWord + labels)) : n <= 128 ? Set(0..<n) : Set(0..<min(n, labels))
        return Points(vectors: Array(weight.array.prefix(n * d)), count: n, dimension: d, columns: ["token", "index"],
                      metadata: tokens.enumerated().map { [$1, String($0)] }, groups: [Int](repeating: 0, count: n),
                      groupNames: [], labels: tokens.indices.map { named.contains($0) ? tokens[$0] : nil },
                      what: words ? "words, most frequent first" : "characters")
    }

    /// The layer's outputs, flattened, for the split's first `limit` samples, grouped by class.
    private func layerOutputs(_ executor: Executor, node: Int, file: ConfigFile, metadata: CheckpointMetadata) throws -> Points {
        guard let dataJSON = file.data else {
            throw ConfigError(file: config, place: "", message: "missing \"data\" section (the samples come from it)")
        }
        let base = (config as NSString).deletingLastPathComponent
        let graph = executor.graph
        let (data, set, _) = try Predict.samples(config: config, split: split, dataJSON, base: base, graph: graph) {
            Array(0..<min(limit, $0))
        }
        let d = graph.nodes[node].layer.outputShape.count
        var vectors: [Float] = [], groups: [Int] = []
        vectors.reserveCapacity(set.count * d)
        var rng = RNG(seed: 0)
        try BatchLoader(dataset: set, batchSize: executor.maxBatch, shuffle: false, seed: 0,
                        normalization: data.normalization, augmentation: nil, workers: data.loaderThreads)
            .forEachBatch(epoch: 0) { batch in
                executor.forward(batch.images, training: false, rng: &rng)
                vectors += executor.output(ofNode: node, batch: batch.count).array
                groups += (0..<batch.count).map { Int(batch.labels[$0 * batch.labelsPerSample]) }
                return true
            }
        let names = metadata.classNames ?? set.classNames ?? (0..<set.classCount).map(String.init)
        func name(_ k: Int) -> String { k < names.count ? names[k] : String(k) }
        return Points(vectors: vectors, count: set.count, dimension: d, columns: ["label", "class"],
                      metadata: groups.map { [String($0), name($0)] }, groups: groups, groupNames: names,
                      labels: [String?](repeating: nil, count: set.count), what: "\(split.rawValue) samples by class")
    }
}
