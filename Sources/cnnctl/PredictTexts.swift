import ArgumentParser
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

/// `predict` on texts (`--text`, `--text-file`) with a text classifier: each text tokenized and
/// encoded with the word vocabulary its checkpoint keeps, exactly as the training texts were, cut
/// or padded to the model's `[T]`; no data needs to be at hand.
extension Predict {
    /// The most texts one `--text-file` may give, and its largest size.
    static let maxTexts = 10_000_000, maxTextFileBytes = 1 << 30

    /// The `--text` texts, then the `--text-file` lines that are not blank.
    func inputTexts() throws -> [String] {
        var texts = text
        if let textFile {
            let content = try readUTF8(textFile, limit: Self.maxTextFileBytes, what: "text file")
            let lines = content.split(whereSeparator: \.isNewline).map(String.init)
                .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !lines.isEmpty else { throw DataError(file: textFile, message: "has no text; give one text per line") }
            guard lines.count <= Self.maxTexts else {
                throw DataError(file: textFile, message: "has more than \(Self.maxTexts) texts")
            }
            texts += lines
        }
        return texts
    }

    /// Whether the inputs are texts (`--text`, `--text-file`).
    var classifiesTexts: Bool { !text.isEmpty || textFile != nil }

    /// (text, prediction) per text (on one line, cut to 60 characters for the table) and the class names.
    func predictTexts(graph: Graph) throws -> ([(String, Predictor.Prediction)], [String]) {
        let output = graph.nodes[graph.outputs[0]].layer.outputShape, input = graph.inputShape
        guard output.rank == 1, input.rank == 1 else {
            throw ConfigError(file: config, place: "model", message: "--text needs a text classifier, input [T] word "
                              + "indices and output [classes]; this model is \(input) → \(output)")
        }
        let texts = try inputTexts(), batch = max(1, batch)
        let (executor, metadata) = try CheckpointExecutor.load(graph, checkpoint: checkpoint, maxBatch: batch)
        guard let words = metadata.words else {
            throw RunError("\(checkpoint) keeps no word vocabulary: it was not trained on "
                                  + "text_classification or fortune_topics data, so --text cannot encode texts for it")
        }
        let set = try TextDocuments(name: "texts", texts: texts, labels: [Int32](repeating: 0, count: texts.count),
                                    classNames: nil).encoded(words: words, length: input[0], classCount: output[0])
        let predictions = try Predictor.predict(executor: executor, dataset: set, normalization: nil, batchSize: batch,
                                                workers: 1)
        func shown(_ text: String) -> String {
            guard format == .table else { return text }
            let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            return flat.count > 60 ? flat.prefix(59) + "…" : flat
        }
        return (zip(texts, predictions).map { (shown($0), $1) }, metadata.classNames ?? [])
    }
}
