import CNNCore

/// A UTF-8 text file as vocabulary indices, one per Unicode scalar, cut into windows for
/// character-level language modelling (Karpathy's char-rnn; Graves 2013, "Generating Sequences
/// With Recurrent Neural Networks"): a window starting at `s` is the input `x[t] = text[s + t]`
/// and the per-time-step target `y[t] = text[s + t + 1]`, `t` in `0..<T`, so the model learns
/// to predict each next character.
///
/// `windows` turns a stretch of the text into a `LabeledDataset` of `[T]` samples (indices as
/// floats, for an embedding layer) with `T` labels each. `split` holds out the end of the text,
/// so validation windows never share a character with training windows.
public struct TextCorpus: Sendable {
    /// The file the text came from, for messages and dataset names.
    public let file: String
    public let vocabulary: Vocabulary
    /// The text as indices into `vocabulary`.
    public let indices: [Int32]

    /// Reads `path` (plain, or gzip-compressed as `GzipFile` reads it) as UTF-8. With no
    /// `vocabulary` one is built from the whole file; a given one (the training text's, for a
    /// separate validation or test file) must hold every character of the file. A missing,
    /// empty or non-UTF-8 file, or a character outside the given vocabulary, is a `DataError`
    /// naming the file.
    public static func load(_ path: String, vocabulary: Vocabulary? = nil) throws -> TextCorpus {
        // Each byte may become a scalar and an index (8 bytes) besides itself.
        let bytes = try IDX.readFile(path, limit: SystemMemory.share(9, cap: 1 << 30), what: "text corpus")
        guard !bytes.isEmpty else {
            throw DataError(file: path, message: "is empty; a text dataset needs text to cut "
                            + "into windows")
        }
        return try TextCorpus(scalars: decodeUTF8(bytes, file: path), file: path,
                              vocabulary: vocabulary)
    }

    /// The corpus of `text` (non-empty), as `load` would make it from a file holding it.
    public init(text: String, file: String, vocabulary: Vocabulary? = nil) throws {
        guard !text.isEmpty else {
            throw DataError(file: file, message: "is empty; a text dataset needs text to cut "
                            + "into windows")
        }
        try self.init(scalars: Array(text.unicodeScalars), file: file, vocabulary: vocabulary)
    }

    private init(scalars: [Unicode.Scalar], file: String, vocabulary: Vocabulary?) throws {
        let vocabulary = try vocabulary ?? Vocabulary(text: scalars)
        var indices = [Int32](repeating: 0, count: scalars.count)
        for (position, scalar) in scalars.enumerated() {
            guard let i = vocabulary.index(of: scalar) else {
                throw DataError(file: file, message: "\(Vocabulary.describe(scalar)) "
                                + "at character \(position) is not in the training text's "
                                + "vocabulary of \(vocabulary.count) symbols")
            }
            indices[position] = i
        }
        self.file = file
        self.vocabulary = vocabulary
        self.indices = indices
    }

    /// The number of characters (Unicode scalars).
    public var count: Int { indices.count }

    /// `samples` windows of `length` characters from `range` (default: the whole text), window
    /// `i` starting at `range.lowerBound + u` with `u` uniform in `0 ..< range.count − length`
    /// drawn from `RNG(seed: mixSeed(seed, 0x7E47, stream, i))`: a pure function of the seed,
    /// the stream (train, validation, test) and `i`, so sample `i` does not depend on `samples`.
    /// The labels of a window run one character past it, so `range` must hold `length + 1`
    /// characters; windows may overlap one another, as random crops of a long text do.
    public func windows(samples: Int, length: Int, in range: Range<Int>? = nil, seed: UInt64,
                        stream: UInt64 = 0, name: String) throws -> LabeledDataset {
        let range = range ?? 0..<count
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "range \(range) outside the \(count) characters of \(file)")
        guard length >= 1 else {
            throw DataError(file: file, message: "sequence_length must be at least 1, got "
                            + "\(length)")
        }
        guard samples >= 1 else {
            throw DataError(file: file, message: "the number of windows must be at least 1, "
                            + "got \(samples)")
        }
        guard range.count > length else {
            let part = range == 0..<count ? "the text" : "characters \(range) of the text"
            throw DataError(file: file, message: "\(part) has \(range.count) characters (Unicode "
                            + "scalars); windows of sequence_length \(length) need at least "
                            + "\(length + 1), since each window's labels run one character "
                            + "past it")
        }
        let starts = range.count - length
        var values = [Float](repeating: 0, count: samples * length)
        var labels = [Int32](repeating: 0, count: samples * length)
        indices.withUnsafeBufferPointer { text in
            values.withUnsafeMutableBufferPointer { x in
                labels.withUnsafeMutableBufferPointer { y in
                    for i in 0..<samples {
                        var rng = RNG(seed: mixSeed(seed, 0x7E47, stream, UInt64(i)))
                        let s = text.baseAddress! + range.lowerBound
                            + Permutation.below(starts, rng: &rng)
                        let xi = x.baseAddress! + i * length, yi = y.baseAddress! + i * length
                        for t in 0..<length {
                            xi[t] = Float(s[t])
                            yi[t] = s[t + 1]
                        }
                    }
                }
            }
        }
        return LabeledDataset(name: name, sampleShape: [length], values: values, labels: labels,
                              classCount: vocabulary.count, classNames: vocabulary.displayNames,
                              labelsPerSample: length, vocabulary: vocabulary)
    }

    /// Training and validation windows for a held-out tail: the last
    /// `round(validationFraction × count)` characters are the validation text and the rest the
    /// training text, and `round(validationFraction × samples)` of the `samples` windows come
    /// from the tail (stream 1), the others from the head (stream 0). A tail rather than a
    /// random choice of windows, because windows overlap: randomly held-out windows would share
    /// most of their characters with training windows. Both parts need `length + 1` characters
    /// and at least one window.
    public func split(validationFraction: Double, samples: Int, length: Int, seed: UInt64,
                      name: String) throws -> (train: LabeledDataset, validation: LabeledDataset) {
        let held = Int((validationFraction * Double(count)).rounded())
        let heldWindows = Int((validationFraction * Double(samples)).rounded())
        guard heldWindows >= 1 && heldWindows < samples else {
            throw DataError(file: file, message: "a validation fraction of \(validationFraction)"
                            + " of \(samples) windows is \(heldWindows) windows; both the "
                            + "validation and the training part need at least 1")
        }
        let tailStart = count - held
        for (part, size) in [("held-out tail", held), ("training head", tailStart)]
        where size <= length {
            throw DataError(file: file, message: "the \(part) (\(validationFraction) of the "
                            + "\(count)-character text is held out) has \(size) characters; "
                            + "windows of sequence_length \(length) need at least \(length + 1)")
        }
        return (try windows(samples: samples - heldWindows, length: length, in: 0..<tailStart,
                            seed: seed, stream: 0, name: "\(name) (training part)"),
                try windows(samples: heldWindows, length: length, in: tailStart..<count,
                            seed: seed, stream: 1, name: "\(name) (validation part)"))
    }

    /// Decodes UTF-8 strictly: the first ill-formed sequence (a stray continuation byte, a
    /// truncated or overlong sequence, an encoded surrogate) is a `DataError` giving its byte
    /// offset, rather than a silent U+FFFD that would become a class of its own.
    static func decodeUTF8(_ bytes: [UInt8], file: String) throws -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars.append(scalar)
                offset += UTF8.width(scalar)
            case .emptyInput:
                return scalars
            case .error:
                let byte = String(bytes[offset], radix: 16, uppercase: true)
                throw DataError(file: file, message: "is not valid UTF-8: byte 0x"
                                + (byte.count == 1 ? "0" : "") + byte + " at offset \(offset) "
                                + "does not start a well-formed sequence; convert the file "
                                + "first, e.g. `iconv -f LATIN1 -t UTF-8`")
            }
        }
    }
}
