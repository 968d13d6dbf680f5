#if canImport(Glibc)
import Glibc
#endif

/// Arguments that are not UTF-8 (a path with bytes such as `\xff\xfe`) are refused before they
/// are parsed: Swift's `String` would replace the bad bytes with U+FFFD, and cnnctl would then
/// write to a directory of another name or report an existing file as missing.
enum ArgumentEncoding {
    /// The position and a printable form of the first argument whose bytes are not valid UTF-8.
    static func firstInvalid() -> (index: Int, shown: String)? {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                            count: strlen(pointer))
            if String(validating: bytes, as: UTF8.self) == nil {
                let shown = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined()
                return (index, shown)
            }
        }
        return nil
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
