/// A light lexer over the raw bytes, used for what json-c does not say well: empty input, where
/// an unexpected end of file started (unterminated string, comment or bracket), trailing content,
/// and turning byte offsets into `LINE:COLUMN` with an excerpt. json-c's own error codes are
/// said in JSONSource.swift (`syntaxError`), beside json-c, so that file stays the one that
/// imports CJSON.
struct JSONScanner {
    let bytes: [UInt8]
    let file: String?

    /// The offset of the first NUL byte or `\u0000` escape: json-c stops at a NUL byte (which
    /// it reports as the end of the file), and keeps the NUL an escape stands for, but keys and
    /// strings reach Swift as C strings, which would end there (`"na\u0000me"` read as `"na"`).
    /// An escaped backslash before the `u` (`\\u0000`, the text itself) does not count.
    func nul() -> Int? {
        if let raw = bytes.firstIndex(of: 0) { return raw }
        var i = 0
        while i + 5 < bytes.count {
            if bytes[i] == UInt8(ascii: "\\") {
                if Array(bytes[i + 1...i + 5]) == Array("u0000".utf8) { return i }
                i += 2
            } else {
                i += 1
            }
        }
        return nil
    }

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
                while i + 1 < bytes.count,
                      !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) {
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

    /// `'x'`, `a newline`, or `a byte 0x..` for messages.
    func describeCharacter(at offset: Int) -> String {
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
