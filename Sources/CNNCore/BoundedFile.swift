#if canImport(Glibc)
import Glibc
#endif

/// A file that comes from outside (a dataset, a checkpoint, a config), opened so that nothing
/// about it is believed before it is checked: only a regular file is accepted — a FIFO would
/// block `open(2)` until a writer came, a device never ends — and the open itself cannot block
/// (`O_NONBLOCK`); the size is taken from `fstat` before anything is read, so a reader can check
/// a header's declared sizes against it and refuse before it allocates; and no read takes more
/// than its caller's limit.
public final class BoundedFile {
    public let path: String
    /// Bytes, from `fstat`.
    public let size: Int
    private let descriptor: Int32

    public init(_ path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FileError(path: path, message: "cannot stat: \(reason)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileError(path: path, message: "is \(Self.kind(status.st_mode)), not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        descriptor = fd
        size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// The whole file, refused without reading when it is larger than `limit` bytes (`what` says
    /// what the file is meant to be, for the message).
    public static func readAll(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let file = try BoundedFile(path)
        guard file.size <= limit else {
            throw FileError(path: path, message: "is \(ByteCount(file.size)), more than the \(ByteCount(limit)) "
                            + "a \(what) may have")
        }
        return try file.read(at: 0, count: file.size)
    }

    /// `count` bytes from `offset`; fewer only where the file ends (it may have shrunk since it
    /// was opened).
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        precondition(offset >= 0 && count >= 0, "negative file range")
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let n = pread(descriptor, buffer.baseAddress! + initialized, count - initialized,
                              off_t(offset + initialized))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(path: path, message: "cannot read: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                initialized += n
            }
        }
    }

    /// A new descriptor of the open file, for a library that takes ownership of one (zlib's
    /// `gzdopen`).
    public func duplicateDescriptor() throws -> Int32 {
        let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else {
            throw FileError(path: path, message: "cannot duplicate: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }
}

/// A file that cannot be read as one: `PATH: is a FIFO (named pipe), not a regular file`.
public struct FileError: LocatedError {
    public let path: String
    public let message: String
    public var location: String? { path }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// A byte count for people: `812 B`, `4.00 KiB`, `3.21 GiB` (GiB is the largest unit), without
/// Foundation's locale-dependent formatting.
public struct ByteCount: CustomStringConvertible {
    public let bytes: Int
    public init(_ bytes: Int) { self.bytes = bytes }

    public var description: String {
        for (scale, unit) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] where bytes >= scale {
            let hundredths = Int((Double(bytes) / Double(scale) * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(unit)"
        }
        return "\(bytes) B"
    }
}
