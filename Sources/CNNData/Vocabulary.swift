import Foundation

/// The symbols of a character-level text dataset, one class per symbol: the distinct Unicode
/// scalars of the text sorted by code point, so symbol `k` is the `k`-th smallest scalar and
/// the same text always gives the same vocabulary (as `sorted(set(text))` in Karpathy's
/// char-rnn / nanoGPT `shakespeare_char` preparation, which counts Python code points too).
///
/// Unicode scalars rather than bytes or `Character`s: bytes would split every non-ASCII
/// character into classes meaningless on their own, and a model sampling them could emit
/// invalid UTF-8; grapheme clusters (`Character`) follow the segmentation rules of the Swift
/// runtime's Unicode version, so a checkpoint's vocabulary could change under a toolchain
/// update, and they merge pairs such as "\r\n". Scalars are stable and lossless: decoding an
/// encoded text gives it back exactly.
public struct Vocabulary: Sendable, Equatable {
    public let symbols: [Unicode.Scalar]
    private let indices: [Unicode.Scalar: Int32]

    /// A vocabulary of exactly `symbols`, in that order (the order defines the class indices).
    /// They must be distinct and there must be at least one.
    public init(symbols: [Unicode.Scalar]) throws {
        guard !symbols.isEmpty else {
            throw DataError(file: nil, message: "a vocabulary needs at least one symbol")
        }
        var indices: [Unicode.Scalar: Int32] = [:]
        for (i, s) in symbols.enumerated() {
            if let first = indices.updateValue(Int32(i), forKey: s) {
                throw DataError(file: nil, message: "vocabulary symbol \(Self.describe(s))"
                                + " appears twice (at \(first) and \(i)); symbols must be distinct")
            }
        }
        self.symbols = symbols
        self.indices = indices
    }

    /// The sorted distinct scalars of `text`, which must not be empty.
    public init<S: Sequence>(text: S) throws where S.Element == Unicode.Scalar {
        try self.init(symbols: Set(text).sorted { $0.value < $1.value })
    }

    public var count: Int { symbols.count }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool { a.symbols == b.symbols }

    /// The class index of `symbol`, nil if the text never had it.
    public func index(of symbol: Unicode.Scalar) -> Int32? { indices[symbol] }

    /// The index of every scalar of `text`; a scalar outside the vocabulary is a `DataError`
    /// naming it and its position (a prime string typed by a user may hold one).
    public func encode(_ text: String) throws -> [Int32] {
        try text.unicodeScalars.enumerated().map { position, scalar in
            guard let i = indices[scalar] else {
                throw DataError(file: nil, message: "\(Self.describe(scalar)) at "
                                + "character \(position) is not in the vocabulary of \(count) "
                                + "symbols")
            }
            return i
        }
    }

    /// The text of `indices`; an index outside `0..<count` (which no model head over this
    /// vocabulary can produce) becomes U+FFFD, the replacement character, instead of a trap.
    public func decode(_ indices: [Int32]) -> String {
        var text = String.UnicodeScalarView()
        for i in indices {
            text.append(i >= 0 && Int(i) < count ? symbols[Int(i)] : "\u{FFFD}")
        }
        return String(text)
    }

    /// Printable names, one per symbol, for class names in metrics and reports.
    public var displayNames: [String] { symbols.map(Self.displayName(of:)) }

    /// The symbol itself when it prints as itself, otherwise a readable escape: `\n`, `\t`,
    /// `\r`, `space`, and `U+XXXX` for other invisible scalars (controls, format characters,
    /// other spaces, lone combining marks, private-use and unassigned code points). A symbol is
    /// one scalar, so the multi-character names cannot be confused with symbols.
    public static func displayName(of symbol: Unicode.Scalar) -> String {
        switch symbol {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        case " ": return "space"
        default: break
        }
        switch symbol.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator,
             .nonspacingMark, .enclosingMark, .spacingMark, .surrogate, .privateUse,
             .unassigned:
            return codePoint(of: symbol)
        default:
            return String(symbol)
        }
    }

    /// `U+XXXX` (at least four hex digits), the Unicode standard's notation.
    static func codePoint(of symbol: Unicode.Scalar) -> String {
        let hex = String(symbol.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The display name and the code point, for messages: `p (U+0070)`, `\n (U+000A)`,
    /// `U+001B`.
    static func describe(_ symbol: Unicode.Scalar) -> String {
        let name = displayName(of: symbol), code = codePoint(of: symbol)
        return name == code ? code : "\(name) (\(code))"
    }

    /// The symbols as a JSON array of one-scalar strings (`["\n"," ","!",…]`), for checkpoint
    /// metadata; `init(serialized:)` reads it back. Written by hand rather than with
    /// `JSONEncoder` so the bytes are fixed by RFC 8259 alone — quote, backslash and the
    /// controls below U+0020 escaped (`\n`, `\t`, `\r` by name, others as `\u00XX`),
    /// everything else literal — not by a Foundation version's choices.
    public func serialized() -> String {
        var out = String.UnicodeScalarView()
        func put(_ s: String) { out.append(contentsOf: s.unicodeScalars) }
        put("[")
        for (i, symbol) in symbols.enumerated() {
            put(i == 0 ? "\"" : ",\"")
            switch symbol {
            case "\"": put("\\\"")
            case "\\": put("\\\\")
            case "\n": put("\\n")
            case "\t": put("\\t")
            case "\r": put("\\r")
            case _ where symbol.value < 0x20:
                let hex = String(symbol.value, radix: 16, uppercase: true)
                put("\\u00" + (hex.count == 1 ? "0" : "") + hex)
            default: out.append(symbol)
            }
            put("\"")
        }
        put("]")
        return String(out)
    }

    /// Reads `serialized()`'s output: a JSON array of distinct strings of one Unicode scalar
    /// each. Anything else is a `DataError` saying what was wrong.
    public init(serialized: String) throws {
        let strings: [String]
        do {
            strings = try JSONDecoder().decode([String].self, from: Data(serialized.utf8))
        } catch {
            throw DataError(file: nil, message: "a serialized vocabulary must be a JSON array "
                            + "of one-character strings; cannot read \(serialized.prefix(40))")
        }
        var symbols: [Unicode.Scalar] = []
        for (i, s) in strings.enumerated() {
            let scalars = s.unicodeScalars
            guard scalars.count == 1, let scalar = scalars.first else {
                throw DataError(file: nil, message: "serialized vocabulary entry \(i) holds "
                                + "\(scalars.count) Unicode scalars; each must hold exactly one")
            }
            symbols.append(scalar)
        }
        try self.init(symbols: symbols)
    }
}
