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
