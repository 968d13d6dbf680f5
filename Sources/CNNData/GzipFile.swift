import CNNCore
import CZlib

/// Reads a whole file through zlib's gzread, which inflates gzip data and passes plain files
/// through unchanged, so `train-images-idx3-ubyte.gz` and an unpacked copy read the same.
/// The only Swift file that imports CZlib.
public enum GzipFile {
    public struct ReadError: LocatedError {
        public let path: String
        public let message: String
        public var location: String? { path }
    }

    /// The decompressed bytes of `path`. A truncated or corrupt gzip stream is an error, never
    /// silently short data.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else {
            throw ReadError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 20)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw ReadError(path: path, message: "corrupt compressed data: \(message(file))") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(n)])
        }
        // gzread returns 0 both at a clean end and when the stream stops early; zlib reports the
        // latter as Z_BUF_ERROR ("unexpected end of file").
        var code: Int32 = 0
        let text = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw ReadError(path: path, message: "truncated or corrupt compressed data: "
                            + (text.map { String(cString: $0) } ?? "zlib error \(code)"))
        }
        return bytes
    }

    private static func message(_ file: gzFile) -> String {
        var code: Int32 = 0
        return gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
    }
}

#if canImport(Glibc)
import Glibc
#endif
