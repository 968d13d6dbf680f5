import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNLayers

/// What a dataset must agree on with a model before a batch of it runs through the model (an
/// evaluation set, which may hold fewer classes than the training set, but none beyond the
/// head): the same per-sample input, the same number of labels per sample, and labels the head
/// has outputs for. Checked where the config and the data meet, so that a mismatch is an error
/// naming both instead of a stop in the metrics.
public enum DataCompatibility {
    /// The classes a head's output `[C]`, `[T, C]` or `[C, H, W]` (per pixel) scores (a single
    /// output scores two).
    public static func classes(of graph: Graph) -> Int {
        let head = graph.nodes[graph.outputs[0]].layer.outputShape
        let scores = head.rank == 3 ? head[0] : head.dims.last ?? 1
        return scores == 1 ? 2 : scores
    }

    /// The labels per sample a head's output takes: 1 for `[C]`, T for `[T, C]`, H·W for `[C, H, W]`.
    static func labels(of head: Shape) -> Int {
        head.rank == 2 ? head[0] : head.rank == 3 ? head[1] * head[2] : 1
    }

    /// Throws when `dataset` (data `role`, e.g. `test`) cannot be evaluated by `graph`.
    public static func checkEvaluable(_ dataset: LabeledDataset, role: String, by graph: Graph, file: String) throws {
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, place: "data.\(role)", message: message) }
        guard dataset.inputShape == graph.inputShape else {
            throw fail("samples are \(dataset.inputShape) but the model's input is \(graph.inputShape) (model.input)")
        }
        let head = graph.nodes[graph.outputs[0]].layer.outputShape
        let steps = labels(of: head)
        guard dataset.labelsPerSample == steps else {
            throw fail("has \(dataset.labelsPerSample) label(s) per sample, the model's output \(head) \(steps)")
        }
        let classes = classes(of: graph)
        guard dataset.classCount <= classes else {
            throw fail("has \(dataset.classCount) classes but the model's output \(head) scores \(classes)")
        }
        try checkIndices(dataset, role: role, by: graph, file: file)
    }

    /// Throws when a layer reading the model input takes indices (an embedding) that `dataset`
    /// does not hold: values that are no text's symbols, or symbols past the layer's table.
    static func checkIndices(_ dataset: LabeledDataset, role: String, by graph: Graph, file: String) throws {
        for node in graph.nodes where node.inputs.contains(Node.modelInput) {
            guard let table = node.layer as? any IndexReading else { continue }
            let what = "\(node.layer.name) (\(node.layer.type))"
            guard let count = dataset.vocabulary?.count ?? dataset.words?.count else {
                throw ConfigError(file: file, place: "data.\(role)", message: "holds values, not a text's symbols, but "
                                  + "\(what) reads the model input as indices into its \(table.indexLimit) rows")
            }
            let symbols = dataset.words == nil ? "distinct characters" : "words in its vocabulary (<pad> and <unk> included)"
            guard count <= table.indexLimit else {
                throw ConfigError(file: file, place: "model", message: "\(what) has \(table.indexLimit) rows, but the "
                                  + "text of \(dataset.name) has \(count) \(symbols): its vocabulary must be at least \(count)")
            }
            if dataset.words != nil, let padding = table.paddingIndex,
               padding != Int(WordVocabulary.paddingIndex) {
                throw ConfigError(file: file, place: "model", message: "\(what) has padding_index \(padding), but texts "
                                  + "are padded with <pad>, index \(WordVocabulary.paddingIndex): set padding_index "
                                  + "\(WordVocabulary.paddingIndex)")
            }
        }
    }
}
