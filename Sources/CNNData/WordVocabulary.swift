import Foundation

/// The words of a word-level text dataset and how text becomes them.
///
/// Tokenizing is Keras' `Tokenizer` default (`text_to_word_sequence`): the text lower-cased,
/// each character of ``WordVocabulary/filters`` — ASCII punctuation but the apostrophe, tab
/// and newline — made a space, then split on whitespace, so `"Don't PANIC!"` is `don't`,
/// `panic`. Lower-casing is Unicode's full mapping (`String.lowercased()`, as Python's
/// `str.lower()`).
///
/// Index 0 is `<pad>`, which only padding is; 1 is `<unk>`, every word outside the vocabulary;
/// then the training texts' words that occur at least `min_freq` times, most frequent first,
/// ties in code-point order (so the same texts always give the same indices), cut to `max_size`
/// entries in all (specials included, so an embedding of `max_size` rows holds them). A text
/// becomes its first `max_length` words' indices, padded at the end with 0.
public struct WordVocabulary: Sendable, Equatable {
    public static let padding = "<pad>", unknown = "<unk>"
    public static let paddingIndex: Int32 = 0, unknownIndex: Int32 = 1
    /// Keras' default `filters`: ``!"#$%&()*+,-./:;<=>?@[\]^_`{|}~`` plus tab and newline.
    public static let filters = Set("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n".unicodeScalars)

    public let words: [String]
    private let indices: [String: Int32]

    public var count: Int { words.count }

    /// The words of `text` under the tokenizing rule above.
    public static func tokenize(_ text: String) -> [String] {
        var words: [String] = [], word = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if filters.contains(scalar) || scalar.properties.isWhitespace {
                if !word.isEmpty { words.append(String(word)); word = .init() }
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// The vocabulary of tokenized `texts`: `<pad>`, `<unk>`, then words seen `minFrequency` or
    /// more times by descending count and code point, at most `maxSize` entries in all (≥ 2).
    public init(counting texts: [[String]], minFrequency: Int = 1, maxSize: Int? = nil) {
        precondition(minFrequency >= 1 && (maxSize ?? 2) >= 2, "min_freq ≥ 1 and max_size ≥ 2")
        var counts: [String: Int] = [:]
        for text in texts { for word in text { counts[word, default: 0] += 1 } }
        let ranked = counts.filter { $0.value >= minFrequency && $0.key != Self.padding && $0.key != Self.unknown }
            .sorted { $0.value != $1.value ? $0.value > $1.value
                : $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
            .map(\.key)
        try! self.init(words: [Self.padding, Self.unknown] + ranked.prefix((maxSize ?? Int.max) - 2))
    }

    /// A vocabulary of exactly `words` (as stored in a checkpoint): `<pad>`, `<unk>`, then
    /// distinct words.
    public init(words: [String]) throws {
        guard words.count >= 2, words[0] == Self.padding, words[1] == Self.unknown else {
            throw DataError(file: nil, message: "a word vocabulary starts with \"\(Self.padding)\" and "
                            + "\"\(Self.unknown)\"")
        }
        var indices: [String: Int32] = [:]
        for (i, w) in words.enumerated() where indices.updateValue(Int32(i), forKey: w) != nil {
            throw DataError(file: nil, message: "word vocabulary entry \(i), \"\(w)\", appears twice")
        }
        self.words = words
        self.indices = indices
    }

    public static func == (a: WordVocabulary, b: WordVocabulary) -> Bool { a.words == b.words }

    /// The index of `word`, `<unk>`'s for a word outside the vocabulary.
    public func index(of word: String) -> Int32 { indices[word] ?? Self.unknownIndex }

    /// `text`'s first `length` words as indices (floats, for an embedding), padded with 0.
    public func encode(_ text: String, length: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: length) { out, made in
            encode(Self.tokenize(text), length: length, into: out.baseAddress!)
            made = length
        }
    }

    /// The first `length` of `words` as indices into `out`, then `<pad>` up to `length`.
    func encode(_ words: [String], length: Int, into out: UnsafeMutablePointer<Float>) {
        let n = min(words.count, length)
        for t in 0..<n { out[t] = Float(index(of: words[t])) }
        (out + n).initialize(repeating: Float(Self.paddingIndex), count: length - n)
    }

    /// The words as a JSON array, for checkpoint metadata.
    public func serialized() -> String {
        String(decoding: try! JSONEncoder().encode(words), as: UTF8.self)
    }

    /// Reads `serialized()`'s output; anything else is a `DataError`.
    public init(serialized: String) throws {
        guard let words = try? JSONDecoder().decode([String].self, from: Data(serialized.utf8)) else {
            throw DataError(file: nil, message: "a serialized word vocabulary must be a JSON array of strings; "
                            + "cannot read \(serialized.prefix(40))")
        }
        try self.init(words: words)
    }
}
