/// A `Decoder` over `JSONValue` that reports problems the way a compiler would: every error is a
/// `ConfigError` whose `place` is the full key path of the offending value
/// (`model.layers[4] (conv2d "c3").padding[1]`), and keys the config type never asked about are
/// errors ("unknown key", with a did-you-mean).
public enum ConfigDecoder {
    /// Decodes `T` from `value`. `path` is the key path of `value` in the file, e.g.
    /// `model.layers[4] (conv2d "c3")`; `file` the file name for messages.
    ///
    /// Throws `ConfigError` (never `DecodingError`) whose `place` is the full key path of the
    /// offending value. After `T(from:)` returns, any key of any object that was decoded through
    /// a keyed container but never asked for (via `decode`, `decodeIfPresent`, `contains`,
    /// `decodeNil`, nested containers) is reported as an unknown key, the first in file order.
    /// The top-level object is checked even if `T` never opens it. `extraKeys` are top-level
    /// keys that count as known although `T` does not read them (for keys such as `"type"` that
    /// the caller has already consumed). `recorder` receives the top-level keys `T` asked for.
    public static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, path: String, file: String?,
        extraKeys: [String] = [], recorder: KeyRecorder? = nil
    ) throws -> T {
        let tracker = KeyTracker()
        // The top-level object is always checked, even when `T` never opens it (a type with
        // no keys decodes without a container, and every key of its object is unknown).
        if case .object = value, T.self != JSONValue.self {
            tracker.register(path: path, asked: extraKeys)
        }
        let decoder = ValueDecoder(value: value, path: path, codingPath: [], file: file,
                                   tracker: tracker)
        let result: T = try decoder.decodeValue(T.self)
        try tracker.checkUnknownKeys(root: value, path: path, file: file)
        recorder?.record(tracker.orderedKeys(path: path))
        return result
    }

    /// Joins a key path and an object key: `a.b` (or just `b` when `path` is empty).
    public static func keyPath(_ path: String, key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Throws for the first integer in `value` outside `range`, at its key path. Layer and block
    /// keys are sizes and counts that layers multiply together while they are built; bounding
    /// them all here keeps every product of two inside `Int` before any layer's own check runs.
    public static func checkIntegers(in value: JSONValue, _ range: ClosedRange<Int>, path: String,
                                     file: String?) throws {
        switch value {
        case .int(let i) where !range.contains(i):
            throw ConfigError(file: file, place: path, message: "integer \(i) is out of range for a layer "
                              + "(\(range.lowerBound)...\(range.upperBound))")
        case .array(let items):
            for (k, item) in items.enumerated() {
                try checkIntegers(in: item, range, path: keyPath(path, index: k), file: file)
            }
        case .object(let object):
            for key in object.keys {
                try checkIntegers(in: object[key]!, range, path: keyPath(path, key: key), file: file)
            }
        default:
            break
        }
    }

    /// Joins a key path and an array index: `a[3]`.
    public static func keyPath(_ path: String, index: Int) -> String {
        "\(path)[\(index)]"
    }

    /// How a value is shown in "got …" messages: `a string ("five")`, `a number (6.5)`.
    public static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "a boolean (\(b))"
        case .int(let i): return "an integer (\(i))"
        case .double(let d): return "a number (\(d))"
        case .string(let s):
            let shown = s.count > 40 ? String(s.prefix(37)) + "..." : s
            return "a string (\"\(shown)\")"
        case .array(let a): return a.isEmpty ? "an empty array" : "an array"
        case .object(let o): return o.isEmpty ? "an empty object" : "an object"
        }
    }
}

// MARK: - Public helpers on Decoder

extension Decoder {
    /// An error at this decoder's place in the config. With a `ConfigDecoder` this is a
    /// `ConfigError` at the full key path; with another decoder a `DecodingError.dataCorrupted`.
    public func configError(_ message: String) -> Error {
        if let decoder = self as? ValueDecoder {
            return ConfigError(file: decoder.file, place: decoder.path, message: message)
        }
        return DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: codingPath, debugDescription: message))
    }

    /// The raw JSON value at this decoder, when it is a `ConfigDecoder`; lets custom types
    /// accept several shapes (e.g. a kernel that is either `3` or `[3, 5]`).
    public var jsonValue: JSONValue? { (self as? ValueDecoder)?.value }

    /// The key path of this decoder's value, when it is a `ConfigDecoder`.
    public var configPath: String? { (self as? ValueDecoder)?.path }

    /// The file this decoder's value comes from, when it is a `ConfigDecoder` given one; lets a
    /// type keep its place (`ConfigPlace`) for checks made after decoding.
    public var configFile: String? { (self as? ValueDecoder)?.file }
}

/// A string-valued config enum whose decoding error lists the valid values:
/// `unknown value "maxx"; valid: max, avg (did you mean "max"?)`.
public protocol ConfigEnum: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension ConfigEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        if let value = Self(rawValue: raw) {
            self = value
            return
        }
        let valid = Self.allCases.map(\.rawValue)
        throw decoder.configError(
            "unknown value \"\(raw)\"; valid: \(valid.joined(separator: ", "))"
                + Suggestion.hint(for: raw, among: valid))
    }
}

/// Any JSON value decodes as itself; its contents are taken as they are (their keys are not
/// checked), which suits free-form fields.
extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if let value = decoder.jsonValue {
            self = value
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else {
            let o = try c.decode([String: JSONValue].self)
            self = .object(JSONObject(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }
}
