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
    /// The top-level object is checked even if `T` never opens it. `extraKeys` are top-level keys that count as known although `T` does not read them (for
    /// keys such as `"type"` that the caller has already consumed).
    public static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, path: String, file: String?,
        extraKeys: [String] = []
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
        return result
    }

    /// Joins a key path and an object key: `a.b` (or just `b` when `path` is empty).
    public static func keyPath(_ path: String, key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
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

// MARK: - Key tracking

/// Records, per object path, which keys the config types asked for (in the order asked).
final class KeyTracker {
    private struct Asked {
        var order: [String] = []
        var set: Set<String> = []
        mutating func insert(_ key: String) {
            if set.insert(key).inserted { order.append(key) }
        }
    }
    private var asked: [String: Asked] = [:]

    func register(path: String) {
        if asked[path] == nil { asked[path] = Asked() }
    }

    func register(path: String, asked keys: some Sequence<String>) {
        for key in keys { ask(path: path, key: key) }
    }

    func ask(path: String, key: String) {
        asked[path, default: Asked()].insert(key)
    }

    func askedKeys(path: String) -> Set<String> { asked[path]?.set ?? [] }

    /// Walks `root` in file order and throws for the first key of a visited object that was
    /// never asked for.
    func checkUnknownKeys(root: JSONValue, path: String, file: String?) throws {
        if asked.isEmpty { return }
        try walk(root, path: path, file: file)
    }

    private func walk(_ value: JSONValue, path: String, file: String?) throws {
        switch value {
        case .object(let object):
            if let known = asked[path] {
                for key in object.keys where !known.set.contains(key) {
                    let valid = known.order
                    let list = valid.isEmpty ? "(none)" : valid.joined(separator: ", ")
                    throw ConfigError(
                        file: file, place: ConfigDecoder.keyPath(path, key: key),
                        message: "unknown key \"\(key)\"; valid keys: \(list)"
                            + Suggestion.hint(for: key, among: valid))
                }
            }
            for (key, child) in object.pairs {
                try walk(child, path: ConfigDecoder.keyPath(path, key: key), file: file)
            }
        case .array(let elements):
            for (i, child) in elements.enumerated() {
                try walk(child, path: ConfigDecoder.keyPath(path, index: i), file: file)
            }
        default:
            break
        }
    }
}

// MARK: - The decoder

struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

final class ValueDecoder: Decoder {
    let value: JSONValue
    let path: String
    let codingPath: [any CodingKey]
    let file: String?
    let tracker: KeyTracker
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, path: String, codingPath: [any CodingKey], file: String?,
         tracker: KeyTracker) {
        self.value = value
        self.path = path
        self.codingPath = codingPath
        self.file = file
        self.tracker = tracker
    }

    func error(_ message: String, at place: String? = nil) -> ConfigError {
        ConfigError(file: file, place: place ?? path, message: message)
    }

    func mismatch(_ expected: String) -> ConfigError {
        error("expected \(expected), got \(ConfigDecoder.describe(value))")
    }

    func child(_ value: JSONValue, key: any CodingKey) -> ValueDecoder {
        let childPath: String
        if let index = key as? IndexKey {
            childPath = ConfigDecoder.keyPath(path, index: index.intValue ?? 0)
        } else {
            childPath = ConfigDecoder.keyPath(path, key: key.stringValue)
        }
        return ValueDecoder(value: value, path: childPath, codingPath: codingPath + [key],
                            file: file, tracker: tracker)
    }

    // MARK: Containers

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("an object") }
        tracker.register(path: path)
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, object: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("an array") }
        return UnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleContainer(decoder: self)
    }

    // MARK: Values

    /// Decodes `T` from this decoder's value, turning every error into a `ConfigError` at the
    /// most precise path known.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch T.self {
        case is Bool.Type: return try decodeBool() as! T
        case is String.Type: return try decodeString() as! T
        case is Double.Type: return try decodeDouble() as! T
        case is Float.Type: return try decodeFloat() as! T
        case is Int.Type: return try decodeInteger(Int.self) as! T
        case is Int8.Type: return try decodeInteger(Int8.self) as! T
        case is Int16.Type: return try decodeInteger(Int16.self) as! T
        case is Int32.Type: return try decodeInteger(Int32.self) as! T
        case is Int64.Type: return try decodeInteger(Int64.self) as! T
        case is UInt.Type: return try decodeInteger(UInt.self) as! T
        case is UInt8.Type: return try decodeInteger(UInt8.self) as! T
        case is UInt16.Type: return try decodeInteger(UInt16.self) as! T
        case is UInt32.Type: return try decodeInteger(UInt32.self) as! T
        case is UInt64.Type: return try decodeInteger(UInt64.self) as! T
        default: break
        }
        do {
            return try T(from: self)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw convert(error)
        } catch {
            throw self.error("\(error)")
        }
    }

    func decodeBool() throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("a boolean") }
        return b
    }

    func decodeString() throws -> String {
        guard case .string(let s) = value else { throw mismatch("a string") }
        return s
    }

    func decodeDouble() throws -> Double {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw mismatch("a number")
        }
    }

    func decodeFloat() throws -> Float {
        let d = try decodeDouble()
        let f = Float(d)
        if f.isInfinite && d.isFinite {
            throw error("number \(d) is out of range for a single-precision float")
        }
        return f
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .int(let i) = value else { throw mismatch("an integer") }
        guard let result = I(exactly: i) else {
            throw error("integer \(i) is out of range (\(I.min)...\(I.max))")
        }
        return result
    }

    /// A `DecodingError` thrown by some custom `init(from:)`, as a `ConfigError`.
    func convert(_ error: DecodingError) -> ConfigError {
        func place(_ codingPath: [any CodingKey]) -> String {
            // The error's coding path is absolute (from the root decoder); only the part below
            // this decoder is new.
            var place = path
            for key in codingPath.dropFirst(min(self.codingPath.count, codingPath.count)) {
                if let index = key.intValue,
                   key is IndexKey || key.stringValue == "Index \(index)"
                    || key.stringValue == "\(index)" {
                    place = ConfigDecoder.keyPath(place, index: index)
                } else {
                    place = ConfigDecoder.keyPath(place, key: key.stringValue)
                }
            }
            return place
        }
        switch error {
        case .typeMismatch(let type, let context):
            return self.error(context.debugDescription.isEmpty
                              ? "expected \(type)" : context.debugDescription,
                              at: place(context.codingPath))
        case .valueNotFound(let type, let context):
            return self.error(context.debugDescription.isEmpty
                              ? "expected \(type), got null" : context.debugDescription,
                              at: place(context.codingPath))
        case .keyNotFound(let key, let context):
            return self.error("missing required key \"\(key.stringValue)\"",
                              at: place(context.codingPath))
        case .dataCorrupted(let context):
            return self.error(context.debugDescription, at: place(context.codingPath))
        @unknown default:
            return self.error("\(error)")
        }
    }
}

// MARK: - Keyed

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let object: JSONObject

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        decoder.tracker.ask(path: decoder.path, key: key.stringValue)
        return object[key.stringValue] != nil
    }

    private func value(for key: Key) throws -> JSONValue {
        decoder.tracker.ask(path: decoder.path, key: key.stringValue)
        guard let value = object[key.stringValue] else {
            var message = "missing required key \"\(key.stringValue)\""
            let asked = decoder.tracker.askedKeys(path: decoder.path)
            let unasked = object.keys.filter { !asked.contains($0) }
            if let typo = Suggestion.closest(to: key.stringValue, among: unasked) {
                message += " (is \"\(typo)\" a misspelling?)"
            }
            throw decoder.error(message)
        }
        return value
    }

    private func child(_ key: Key) throws -> ValueDecoder {
        decoder.child(try value(for: key), key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try value(for: key) == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(T.self)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decodeDouble() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decodeFloat() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decodeInteger(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decodeInteger(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decodeInteger(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decodeInteger(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decodeInteger(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decodeInteger(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decodeInteger(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        throw decoder.error("superDecoder is not supported by the config decoder")
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw decoder.error("superDecoder is not supported by the config decoder")
    }
}

// MARK: - Unkeyed

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [JSONValue]
    private(set) var currentIndex = 0

    init(decoder: ValueDecoder, elements: [JSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw decoder.error("too few elements: the array has \(elements.count), "
                                + "more are needed")
        }
        let child = decoder.child(elements[currentIndex], key: IndexKey(intValue: currentIndex))
        currentIndex += 1
        return child
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { _ = try next(); return false }
        if elements[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next().decodeValue(T.self)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeString() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decodeDouble() }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decodeFloat() }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeInteger(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeInteger(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        throw decoder.error("superDecoder is not supported by the config decoder")
    }
}

// MARK: - Single value

struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }

    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { try decoder.decodeFloat() }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
}
