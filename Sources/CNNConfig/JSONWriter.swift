extension JSONValue {
    /// Pretty-printed JSON text (2-space indent, keys in their stored order). Reals print with
    /// Swift's shortest round-tripping form, so a value read back is the same value.
    public func serialized(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? "\(d)" : "null"
        case .string(let s): return Self.quoted(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            let scalars = items.allSatisfy {
                if case .array = $0 { false } else if case .object = $0 { false } else { true }
            }
            if scalars {
                return "[" + items.map { $0.serialized() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { inner + $0.serialized(indent: inner) }.joined(separator: ",\n")
                + "\n\(indent)]"
        case .object(let object):
            if object.isEmpty { return "{}" }
            return "{\n" + object.pairs
                .map { inner + Self.quoted($0.key) + ": " + $0.value.serialized(indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    /// One-line JSON text, `{"a": 1, "b": [2, 3]}` (keys in their stored order), for examples
    /// in listings.
    public var compact: String {
        switch self {
        case .array(let items): return "[" + items.map(\.compact).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.pairs.map { Self.quoted($0.key) + ": " + $0.value.compact }.joined(separator: ", ") + "}"
        default: return serialized()
        }
    }

    /// A JSON string literal, escaped as serde_json (the reference safetensors writer) does:
    /// `"`, `\` and the control characters; everything else, non-ASCII included, as raw UTF-8.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
