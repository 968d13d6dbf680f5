import CNNConfig
import CNNCore

/// Labelled texts before they become word indices: a `text_classification` table's rows or the
/// fortunes of `fortune_topics`. `DataSpec` builds the word vocabulary from the training texts
/// only (after any validation part is held out) and encodes every set with it (`encoded`).
public struct TextDocuments: Sendable {
    public let name: String
    public var texts: [String]
    public var labels: [Int32]
    /// The classes, or nil where the labels are indices.
    public var classNames: [String]?

    public var classCount: Int { classNames?.count ?? Int(labels.max() ?? 0) + 1 }

    /// Holds out `round(fraction × count)` texts chosen as `LabeledDataset.split` chooses samples.
    func split(validationFraction fraction: Double, seed: UInt64) -> (train: TextDocuments, validation: TextDocuments) {
        let held = Int((fraction * Double(texts.count)).rounded())
        var rng = LabeledDataset.splitRNG(seed)
        let (validation, train) = Permutation.split(count: texts.count, first: held, rng: &rng)
        func part(_ indices: [Int], _ suffix: String) -> TextDocuments {
            TextDocuments(name: "\(name) (\(suffix))", texts: indices.map { texts[$0] },
                          labels: indices.map { labels[$0] }, classNames: classNames)
        }
        return (part(train, "training part"), part(validation, "validation part"))
    }

    public init(name: String, texts: [String], labels: [Int32], classNames: [String]?) {
        self.name = name
        self.texts = texts
        self.labels = labels
        self.classNames = classNames
    }

    /// The texts as `[length]` samples of `words` indices, padded at the end with `<pad>`, for a
    /// head of `classCount` classes; `tokens`, the texts' words where they are at hand already.
    public func encoded(words: WordVocabulary, length: Int, classCount: Int, tokens: [[String]]? = nil) throws
        -> LabeledDataset {
        try SystemMemory.require(4 * texts.count * length, for: "\(texts.count) texts of \(length) words", file: nil)
        let values = [Float](unsafeUninitializedCapacity: texts.count * length) { out, made in
            for (i, text) in texts.enumerated() {
                words.encode(tokens?[i] ?? WordVocabulary.tokenize(text), length: length, into: out.baseAddress! + i * length)
            }
            made = texts.count * length
        }
        return LabeledDataset(name: name, sampleShape: [length], values: values, labels: labels,
                              classCount: classCount, classNames: classNames, words: words)
    }
}

/// `{"type": "text_classification", "file": F, "format"?: "tsv" | "csv", "classes"?: [...],
///   "max_length": T, "min_freq"?: 1, "max_size"?: N}`: a table of `label, text` rows (CSV as
/// RFC 4180 through yaslab's CSV.swift, or tab-separated; by default TSV for a `.tsv` file, else
/// CSV). Fields after the second are part of the text (an unquoted comma in it). A first row whose
/// label is `label` is a header; blank rows are skipped. Labels follow `ClassLabels` (names, or
/// indices; `classes` fixes the names and their order). The vocabulary keys apply to the
/// training source (`TextVocabularyConfig`).
public enum TextClassification {
    enum Format: String, ConfigEnum { case tsv, csv }

    struct Config: Decodable {
        var file: String
        var format: Format?
        var classes: [String]?
        var vocabulary: TextVocabularyConfig
        enum CodingKeys: String, CodingKey { case file, format, classes }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decode(String.self, forKey: .file)
            format = try c.decodeIfPresent(Format.self, forKey: .format)
            classes = try c.decodeIfPresent([String].self, forKey: .classes)
            vocabulary = try TextVocabularyConfig(from: decoder)
        }
    }

    /// The largest table read, and the most rows.
    static let maxBytes = 1 << 30, maxRows = 10_000_000

    /// Reads the table at `path`; `classNames` (the training set's, or the config's `classes`)
    /// fixes the classes.
    static func load(_ path: String, format: Format?, classNames: [String]?, name: String) throws -> TextDocuments {
        let tabs = (format ?? (path.lowercased().hasSuffix(".tsv") ? .tsv : .csv)) == .tsv
        let table = try LabelTable.rows(path, tabs: tabs, labelColumn: 0, limit: maxBytes, maxRows: maxRows,
                                        what: "text classification table")
        var labels: [String] = [], texts: [String] = [], places: [String] = []
        for (fields, row) in table {
            let label = fields[0].trimmingWhitespace()
            guard fields.count >= 2, !label.isEmpty else {
                throw DataError(file: "\(path):\(row)", message: fields.count < 2
                                ? "has 1 field; each row is label\(tabs ? "<tab>" : ",")text"
                                : "has an empty label")
            }
            labels.append(label)
            texts.append(fields[1...].joined(separator: tabs ? "\t" : ","))
            places.append("\(path):\(row)")
        }
        guard !labels.isEmpty else {
            throw DataError(file: path, message: "has no rows; each row is label\(tabs ? "<tab>" : ",")text")
        }
        let (indices, names) = try ClassLabels.assign(labels, places: places, given: classNames)
        return TextDocuments(name: name, texts: texts, labels: indices, classNames: names)
    }
}

/// The keys of a text classification source that shape its words: `max_length` T, the words
/// a text keeps (the rest cut, a shorter text padded at the end); `min_freq`, how often a word
/// must occur in the training texts to get an index of its own (default 1); `max_size`, the most
/// vocabulary entries including `<pad>` and `<unk>` (default all). Validation and test sets use
/// the training set's vocabulary and length.
struct TextVocabularyConfig: Decodable, Equatable {
    var maxLength: Int?
    var minFreq: Int?
    var maxSize: Int?
    enum CodingKeys: String, CodingKey { case maxLength = "max_length", minFreq = "min_freq", maxSize = "max_size" }

    /// The longest text a sample may hold.
    static let maxLengthLimit = 1_000_000

    func validate(path: String, file: String) throws {
        func fail(_ key: CodingKeys, _ message: String) -> ConfigError {
            ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key.rawValue), message: message)
        }
        if let t = maxLength, !(1...Self.maxLengthLimit).contains(t) {
            throw fail(.maxLength, "must be in 1...\(Self.maxLengthLimit) words, got \(t)")
        }
        if let m = minFreq, m < 1 { throw fail(.minFreq, "must be at least 1, got \(m)") }
        if let m = maxSize, m < 2 {
            throw fail(.maxSize, "must be at least 2 (\"<pad>\" and \"<unk>\" are entries), got \(m)")
        }
    }
}
