#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file so that a reader — or a run resumed after `kill -9` or a power cut — sees
/// either the complete old contents or the complete new ones, never a mixture.
///
/// The classic POSIX recipe (as in SQLite's and Git's lock-file writes): write
/// `PATH.tmp-<pid>` in the same directory (rename is only atomic within one file system), fsync it
/// so its data is on disk before its name is, `rename(2)` it over PATH (atomic by POSIX), then
/// fsync the directory so the rename itself survives a crash. On any failure the temporary file is
/// removed and PATH is left as it was.
public enum AtomicFile {
    /// Atomically replaces `path` with `bytes`.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        try write(to: path) { emit in try emit(bytes) }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path) }
    }

    /// Atomically replaces `path` with the UTF-8 bytes of `text`.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Atomically replaces `path` with whatever `body` passes to `emit`, in order. Streaming lets
    /// a large checkpoint go to disk without first gathering it in one buffer. If `body` throws,
    /// the error propagates and `path` is untouched.
    public static func write(
        to path: String,
        _ body: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try prepare(to: path, body).commit()
    }

    /// The first half of `write`: the contents written and synced under a temporary name, not
    /// yet renamed over `path`. Files that must change together are all prepared before any is
    /// committed, so a write that fails (a full disk) leaves every one of them as it was.
    public static func prepare(
        to path: String,
        _ body: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> PendingFile {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, "cannot create \(temporary)") }
        let pending = PendingFile(path: path, temporary: temporary)
        var closed = false
        defer { if !closed { close(fd) } }
        try body { chunk in try writeAll(chunk, to: fd, temporary: temporary, path: path) }
        guard fsync(fd) == 0 else { throw failure(path, "cannot sync \(temporary)") }
        closed = true
        guard close(fd) == 0 else { throw failure(path, "cannot close \(temporary)") }
        return pending
    }

    /// A file written and synced under a temporary name; `commit` renames it into place, and one
    /// dropped uncommitted is removed.
    public final class PendingFile {
        public let path: String
        let temporary: String
        private var committed = false

        init(path: String, temporary: String) {
            self.path = path
            self.temporary = temporary
        }

        deinit { if !committed { unlink(temporary) } }

        /// Renames the file over `path` (atomic by POSIX) and syncs the directory, so that the
        /// rename survives a crash.
        public func commit() throws {
            guard rename(temporary, path) == 0 else {
                throw AtomicFile.failure(path, "cannot rename \(temporary) over it")
            }
            committed = true
            try AtomicFile.syncDirectory(of: path)
        }
    }

    private static func writeAll(_ chunk: UnsafeRawBufferPointer, to fd: Int32,
                                 temporary: String, path: String) throws {
        guard var next = chunk.baseAddress else { return }
        var remaining = chunk.count
        while remaining > 0 {
            let written = Glibc.write(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(path, "cannot write \(temporary)")
            }
            next += written
            remaining -= written
        }
    }

    /// Makes the rename durable. Some file systems cannot sync a directory and say EINVAL; the
    /// rename has happened by then, so that is not reported as a failed write.
    fileprivate static func syncDirectory(of path: String) throws {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path, "cannot open directory \(directory) to sync it") }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL {
            throw failure(path, "cannot sync directory \(directory)")
        }
    }

    /// An error naming `path`, the step that failed and the system's reason (errno).
    fileprivate static func failure(_ path: String, _ what: String) -> CheckpointError {
        CheckpointError(file: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
