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
            let bytes = try BoundedFile.readAll(textFile, limit: Self.maxTextFileBytes, what: "text file")
            guard let content = String(validating: bytes, as: UTF8.self) else {
                throw DataError(file: textFile, message: "is not UTF-8 text")
            }
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

    /// (text, prediction) per text and the class names.
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
        try SystemMemory.require(4 * texts.count * input[0], for: "\(texts.count) texts of \(input[0]) words", file: nil)
        var values: [Float] = []
        values.reserveCapacity(texts.count * input[0])
        for text in texts { values += words.encode(text, length: input[0]) }
        let set = LabeledDataset(name: "texts", sampleShape: input, values: values,
                                 labels: [Int32](repeating: 0, count: texts.count), classCount: output[0],
                                 classNames: nil, words: words)
        let predictions = try Predictor.predict(executor: executor, dataset: set, normalization: nil, batchSize: batch,
                                                workers: 1)
        return (zip(texts, predictions).map { ($0, $1) }, metadata.classNames ?? [])
    }
}
