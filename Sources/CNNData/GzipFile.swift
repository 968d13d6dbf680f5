#if canImport(Glibc)
import Glibc
#endif
import CNNCore
import CZlib

/// Reads a file through zlib's gzread, which inflates gzip data and passes plain files through
/// unchanged, so `train-images-idx3-ubyte.gz` and an unpacked copy read the same. The file is
/// opened as a `BoundedFile` (a regular file, an open that cannot block), and no read inflates
/// more than its caller asks for, so a gzip bomb stops at the size its reader expects instead of
/// filling memory. The only Swift file that imports CZlib.
public final class GzipFile {
    public struct ReadError: LocatedError {
        public let path: String
        public let message: String
        public var location: String? { path }
    }

    public let path: String
    private let file: gzFile

    public init(_ path: String) throws {
        self.path = path
        let descriptor: Int32
        do {
            descriptor = try BoundedFile(path).duplicateDescriptor()
        } catch let error as FileError {
            throw ReadError(path: path, message: error.message)
        }
        guard let file = gzdopen(descriptor, "rb") else {
            close(descriptor)
            throw ReadError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.file = file
        gzbuffer(file, 1 << 20)
    }

    deinit { gzclose(file) }

    /// The next (decompressed) bytes, up to `count`: fewer only at the end of the data. A
    /// truncated or corrupt gzip stream is an error, never silently short data.
    public func read(upTo count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while bytes.count < count {
            let want = UInt32(min(chunk.count, count - bytes.count))
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, want) }
            if n < 0 { throw ReadError(path: path, message: "corrupt compressed data: \(message())") }
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

    /// The whole decompressed contents, refused once they pass `limit` bytes (`what` says what
    /// the file is meant to be, for the message).
    public static func read(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let bytes = try GzipFile(path).read(upTo: limit + 1)
        guard bytes.count <= limit else {
            throw ReadError(path: path, message: "holds more than the \(ByteCount(limit)) a \(what) may have "
                            + "(decompressed)")
        }
        return bytes
    }

    private func message() -> String {
        var code: Int32 = 0
        return gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
    }
}
