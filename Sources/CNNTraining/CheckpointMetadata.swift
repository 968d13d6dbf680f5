import CNNConfig
import CNNData

/// What a checkpoint keeps besides the weights, so that `generate` and `predict` need no
/// training data: a text model's `vocabulary` (characters) or `words` (`WordVocabulary`, for text
/// classification), the `class_names` and an image model's
/// `eval_normalization` (its evaluation transforms' normalization: the training images'
/// statistics under `"auto"`), as JSON strings in the safetensors metadata.
public struct CheckpointMetadata {
    public var classNames: [String]?
    public var evalNormalization: Normalization?
    public var words: WordVocabulary?
    public var vocabulary: Vocabulary?

    /// The entries written for a run on `data` (the training vocabulary as `Vocabulary` writes it).
    static func entries(for data: LoadedData) -> [String: String] {
        var metadata: [String: String] = [:]
        if let vocabulary = data.train.vocabulary { metadata["vocabulary"] = vocabulary.serialized() }
        if let words = data.train.words { metadata["words"] = words.serialized() }
        if let names = data.train.classNames {
            metadata["class_names"] = JSONValue.array(names.map(JSONValue.string)).serialized()
        }
        if let n = data.evaluationPipeline?.normalization ?? data.normalization {
            metadata["eval_normalization"] = JSONValue.object(JSONObject([
                ("mean", .array(n.mean.map { .double(Double($0)) })),
                ("std", .array(n.std.map { .double(Double($0)) }))])).serialized()
        }
        return metadata
    }

    /// Reads the entries a checkpoint has; one that is there but malformed is an error naming
    /// the file (never a normalization whose sizes disagree).
    public init(_ metadata: [String: String], file: String) throws {
        func fail(_ key: String) -> CheckpointError {
            CheckpointError(file: file, message: "metadata \"\(key)\" is not what cnnctl writes there")
        }
        if let text = metadata["class_names"] {
            guard let names = try? JSONSource.parse(text, file: file).arrayValue?.map(\.stringValue),
                  names.allSatisfy({ $0 != nil }) else { throw fail("class_names") }
            classNames = names.map { $0! }
        }
        if let text = metadata["vocabulary"] {
            guard let vocabulary = try? Vocabulary(serialized: text) else { throw fail("vocabulary") }
            self.vocabulary = vocabulary
        }
        if let text = metadata["words"] {
            guard let words = try? WordVocabulary(serialized: text) else { throw fail("words") }
            self.words = words
        }
        if let text = metadata["eval_normalization"] {
            func floats(_ key: String, _ json: JSONValue) -> [Float]? {
                json.objectValue?[key]?.arrayValue?.map { v -> Float? in
                    switch v { case .double(let d): Float(d); case .int(let i): Float(i); default: nil }
                }.compactMap { $0 }
            }
            guard let json = try? JSONSource.parse(text, file: file), let mean = floats("mean", json),
                  let std = floats("std", json), !mean.isEmpty, mean.count == std.count,
                  mean.count == json.objectValue?["mean"]?.arrayValue?.count,
                  std.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw fail("eval_normalization") }
            evalNormalization = Normalization(mean: mean, std: std)
        }
    }
}
