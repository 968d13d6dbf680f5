import CJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading JSON config text with json-c (the only place in the project that talks to it).
/// json-c is tolerant: `//` and `/* */` comments, trailing commas and single-quoted strings are
/// accepted. Syntax errors become `ConfigError`s placed at `LINE:COLUMN` (1-based, columns in
/// characters) with a short excerpt of the line and a caret.
public enum JSONSource {
    /// Deepest nesting of arrays and objects accepted.
    public static let maxDepth = 64

    /// Parses JSON text with json-c. Syntax errors throw
    /// `ConfigError(file: file, place: "LINE:COLUMN", message: …)`; an input with nothing but
    /// whitespace and comments throws `ConfigError(file: file, place: "", message: "empty file")`.
    public static func parse(_ text: String, file: String?) throws -> JSONValue {
        let bytes = Array(text.utf8)
        let scanner = Scanner(bytes: bytes, file: file)
        guard scanner.hasContent() else {
            throw ConfigError(file: file, place: "", message: "empty file")
        }
        guard bytes.count < Int(Int32.max) else {
            throw ConfigError(file: file, place: "", message: "file too large")
        }
        guard let tok = json_tokener_new_ex(Int32(maxDepth)) else {
            throw ConfigError(file: file, place: "", message: "out of memory")
        }
        defer { json_tokener_free(tok) }

        var object = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                json_tokener_parse_ex(tok, $0.baseAddress, Int32($0.count))
            }
        }
        var error = json_tokener_get_error(tok)
        var end = json_tokener_get_parse_end(tok)
        if error == json_tokener_continue {
            // The input ended inside a value. A top-level number or literal ("123", "true") is
            // only complete once json-c sees a terminator, so offer it the terminating NUL.
            var nul: CChar = 0
            object = json_tokener_parse_ex(tok, &nul, 1)
            error = json_tokener_get_error(tok)
            end = bytes.count
            // json-c also ends up here for a complete value followed by an unterminated
            // comment, which it then accepts; the lexical scan catches that.
            let lexicalError = scanner.unterminatedStringOrComment()
            if object == nil || error != json_tokener_success || lexicalError != nil {
                if let object { json_object_put(object) }
                throw lexicalError ?? scanner.endOfFileError()
            }
        }
        guard let object, error == json_tokener_success else {
            if let object { json_object_put(object) }
            throw scanner.syntaxError(error, at: min(end, bytes.count))
        }
        defer { json_object_put(object) }
        try scanner.checkTrailing(from: min(end, bytes.count))
        return convert(object)
    }

    /// Reads and parses a file; a missing or unreadable file throws
    /// `ConfigError(file: path, place: "", message: "cannot read file: <strerror>")`.
    public static func load(path: String) throws -> JSONValue {
        try parse(try readText(path: path), file: path)
    }

    /// The contents of a file as text (invalid UTF-8 is replaced, not rejected).
    static func readText(path: String) throws -> String {
        func failure(_ code: Int32) -> ConfigError {
            ConfigError(file: path, place: "",
                        message: "cannot read file: \(String(cString: strerror(code)))")
        }
        guard let handle = fopen(path, "rb") else { throw failure(errno) }
        defer { fclose(handle) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
            if n > 0 { data.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(handle) != 0 { throw failure(errno) }
                break
            }
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - json_object → JSONValue

    private static func convert(_ object: OpaquePointer?) -> JSONValue {
        guard let object else { return .null }
        switch json_object_get_type(object) {
        case json_type_null:
            return .null
        case json_type_boolean:
            return .bool(json_object_get_boolean(object) != 0)
        case json_type_int:
            let value = json_object_get_int64(object)
            if value == Int64.max {
                // json-c keeps values above Int64.max as unsigned; they are no Swift `Int`.
                let unsigned = json_object_get_uint64(object)
                if unsigned > UInt64(Int64.max) { return .double(Double(unsigned)) }
            }
            return .int(Int(value))
        case json_type_double:
            return .double(json_object_get_double(object))
        case json_type_string:
            let length = Int(json_object_get_string_len(object))
            guard let chars = json_object_get_string(object) else { return .string("") }
            return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
                .string(String(decoding: UnsafeBufferPointer(start: $0, count: length),
                               as: UTF8.self))
            }
        case json_type_array:
            let count = json_object_array_length(object)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for i in 0..<count {
                elements.append(convert(json_object_array_get_idx(object, i)))
            }
            return .array(elements)
        case json_type_object:
            var result = JSONObject()
            var iterator = json_object_iter_begin(object)
            var end = json_object_iter_end(object)
            while json_object_iter_equal(&iterator, &end) == 0 {
                let name = String(cString: json_object_iter_peek_name(&iterator))
                result[name] = convert(json_object_iter_peek_value(&iterator))
                json_object_iter_next(&iterator)
            }
            return .object(result)
        default:
            return .null
        }
    }
}

// MARK: - Positions and messages

/// A light lexer over the raw bytes, used for what json-c does not say well: empty input, where
/// an unexpected end of file started (unterminated string, comment or bracket), trailing content,
/// and turning byte offsets into `LINE:COLUMN` with an excerpt.
private struct Scanner {
    let bytes: [UInt8]
    let file: String?

    /// Whether there is anything other than whitespace and comments.
    func hasContent() -> Bool {
        var i = 0
        while i < bytes.count {
            switch skipTrivia(from: i) {
            case .next(let j):
                if j < bytes.count { return true }
                i = j
            case .unterminatedComment:
                return false
            }
        }
        return false
    }

    private enum Trivia { case next(Int), unterminatedComment(Int) }

    /// Skips whitespace and comments from `i`; returns the offset of the next significant byte
    /// (or `bytes.count`).
    private func skipTrivia(from start: Int) -> Trivia {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                i += 1
            } else if c == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") {
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else if c == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                let opened = i
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) {
                    i += 1
                }
                if i + 1 >= bytes.count { return .unterminatedComment(opened) }
                i += 2
            } else {
                break
            }
        }
        return .next(i)
    }

    /// After a complete value ending at `offset`, only whitespace and comments may follow.
    func checkTrailing(from offset: Int) throws {
        switch skipTrivia(from: offset) {
        case .unterminatedComment(let opened):
            throw error("unterminated comment", at: opened)
        case .next(let i):
            if i < bytes.count {
                throw error("unexpected \(describeCharacter(at: i)) after the end of the JSON value",
                            at: i)
            }
        }
    }

    /// An error for a string or block comment still open at the end of the input, if any.
    func unterminatedStringOrComment() -> ConfigError? {
        let error = endOfFileError()
        return error.message.hasPrefix("unterminated") ? error : nil
    }

    /// The input ended in the middle of a value: say which string, comment or bracket is open.
    func endOfFileError() -> ConfigError {
        var stack: [Int] = []
        var i = 0
        while i < bytes.count {
            switch skipTrivia(from: i) {
            case .unterminatedComment(let opened):
                return error("unterminated comment", at: opened)
            case .next(let j):
                i = j
            }
            guard i < bytes.count else { break }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                let opened = i
                i += 1
                while i < bytes.count, bytes[i] != c {
                    i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                if i >= bytes.count { return error("unterminated string", at: opened) }
                i += 1
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                stack.append(i)
                i += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                _ = stack.popLast()
                i += 1
            } else {
                i += 1
            }
        }
        var message = "unexpected end of file"
        if let open = stack.last {
            let (line, column) = position(of: open)
            let closer = bytes[open] == UInt8(ascii: "{") ? "}" : "]"
            message += "; the '\(Character(UnicodeScalar(bytes[open])))' at \(line):\(column) "
                + "is never closed (expected '\(closer)')"
        }
        return error(message, at: bytes.count)
    }

    /// json-c's error at byte `offset`, said plainly.
    func syntaxError(_ code: json_tokener_error, at offset: Int) -> ConfigError {
        let found = offset < bytes.count ? ", found \(describeCharacter(at: offset))" : ""
        let message: String
        switch code {
        case json_tokener_error_depth:
            message = "nesting too deep (more than \(JSONSource.maxDepth) levels of arrays and objects)"
        case json_tokener_error_parse_eof:
            return endOfFileError()
        case json_tokener_error_parse_unexpected:
            message = offset < bytes.count
                ? "unexpected \(describeCharacter(at: offset))" : "unexpected end of file"
        case json_tokener_error_parse_null:
            message = "invalid literal (expected null)" + found
        case json_tokener_error_parse_boolean:
            message = "invalid literal (expected true or false)" + found
        case json_tokener_error_parse_number:
            message = "invalid number" + found
        case json_tokener_error_parse_array:
            message = "expected ',' or ']'" + found
        case json_tokener_error_parse_object_key_name:
            message = "expected a key in double quotes" + found
        case json_tokener_error_parse_object_key_sep:
            message = "expected ':' after the key" + found
        case json_tokener_error_parse_object_value_sep:
            message = "expected ',' or '}'" + found
        case json_tokener_error_parse_string:
            message = "invalid escape sequence in string"
        case json_tokener_error_parse_comment:
            message = "invalid comment (expected // or /*)"
        case json_tokener_error_parse_utf8_string:
            message = "invalid UTF-8 in string"
        case json_tokener_error_size:
            message = "input too large"
        default:
            message = String(cString: json_tokener_error_desc(code))
        }
        return error(message, at: offset)
    }

    /// `'x'`, `a newline`, or `a byte 0x..` for messages.
    private func describeCharacter(at offset: Int) -> String {
        let c = bytes[offset]
        switch c {
        case 0x0A, 0x0D: return "end of line"
        case 0x09: return "a tab"
        case 0x00: return "a NUL byte"
        case 0x21...0x7E: return "'\(Character(UnicodeScalar(c)))'"
        case 0x80...:
            // The whole UTF-8 sequence starting here.
            var end = offset + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "'\(String(decoding: bytes[offset..<end], as: UTF8.self))'"
        default:
            let hex = String(c, radix: 16, uppercase: true)
            return "byte 0x\(hex.count < 2 ? "0" + hex : hex)"
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    func position(of offset: Int) -> (line: Int, column: Int) {
        let offset = min(offset, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<offset where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self)
            .unicodeScalars.count + 1
        return (line, column)
    }

    func error(_ message: String, at offset: Int) -> ConfigError {
        let (line, column) = position(of: offset)
        return ConfigError(file: file, place: "\(line):\(column)",
                           message: message + excerpt(at: offset))
    }

    /// `\n  <the line>\n  <spaces>^`, trimmed around the column for long lines; empty for a
    /// blank line.
    private func excerpt(at offset: Int) -> String {
        let offset = min(offset, bytes.count)
        var start = offset
        while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
        var before = Array(String(decoding: bytes[start..<offset], as: UTF8.self))
        var after = Array(String(decoding: bytes[offset..<end], as: UTF8.self))
        if (before + after).allSatisfy({ $0 == " " || $0 == "\t" }) { return "" }
        let window = 60
        var prefix = "", suffix = ""
        if before.count > window {
            before = Array(before.suffix(window - 3))
            prefix = "..."
        }
        if after.count > window {
            after = Array(after.prefix(window - 3))
            suffix = "..."
        }
        let caretIndent = prefix.map { _ in " " }.joined()
            + before.map { $0 == "\t" ? "\t" : " " }.joined()
        return "\n    " + prefix + String(before) + String(after) + suffix
            + "\n    " + caretIndent + "^"
    }
}
