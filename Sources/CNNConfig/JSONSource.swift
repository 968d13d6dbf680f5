import CJSON
import CNNCore

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
        let scanner = JSONScanner(bytes: bytes, file: file)
        guard scanner.hasContent() else {
            throw ConfigError(file: file, place: "", message: "empty file")
        }
        if let offset = scanner.nul() {
            throw scanner.error("the NUL character (a zero byte or \\u0000) cannot be part of a config", at: offset)
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
    /// `ConfigError(file: path, place: "", message: "cannot open: <strerror>")`; so does a path
    /// that is no regular file or a file over `maximumFileBytes`.
    public static func load(path: String) throws -> JSONValue {
        try parse(try readText(path: path), file: path)
    }

    /// The contents of a file as text (invalid UTF-8 is replaced, not rejected): a regular file
    /// of at most `maximumFileBytes`, read whole (`BoundedFile`).
    static func readText(path: String) throws -> String {
        do {
            return String(decoding: try BoundedFile.readAll(path, limit: maximumFileBytes, what: "config file"),
                          as: UTF8.self)
        } catch let error as FileError {
            throw ConfigError(file: path, place: "", message: error.message)
        }
    }

    /// The largest config file read: far beyond any model written by hand or generated.
    static let maximumFileBytes = 16 << 20

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

// MARK: - json-c's errors

extension JSONScanner {
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
}
