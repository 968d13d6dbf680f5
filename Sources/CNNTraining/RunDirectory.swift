import CNNCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files of one training run: `config.json` (the resolved config, model inline), `log.txt`,
/// `metrics.csv`, `curves.svg`, and the checkpoints `last`/`best` (+ `.state`). Every file but the
/// log is replaced atomically, so a killed run never leaves half a file behind.
///
/// In a data-parallel run only rank 0 writes: the other processes hold a `RunDirectory` that
/// reads (a resume's checkpoint) but whose writes do nothing (`writes` false).
public final class RunDirectory {
    public let path: String
    /// `log.txt`, open for appending; −1 where this process does not write.
    private let log: Int32
    public let writes: Bool

    /// Creates (or, for a resume, reopens) the directory. Nothing is written until the directory
    /// is known to be usable: a resume of a directory that holds no run leaves it untouched.
    public init(path: String, resuming: Bool, writes: Bool = true) throws {
        self.path = path
        self.writes = writes
        guard writes else {
            log = -1
            return
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RunError("\(path) exists and is not a directory") }
            let holdsRun = fm.fileExists(atPath: path + "/last.safetensors")
            if !resuming && holdsRun {
                throw RunError("\(path) already holds a run; continue it with --resume \(path) or choose another --out")
            }
            if resuming && !holdsRun {
                throw RunError("\(path) holds no run to resume (no last.safetensors)")
            }
        } else {
            if resuming { throw RunError("\(path): no such run directory to resume") }
            try Self.makeDirectories(path)
        }
        let logPath = path + "/log.txt"
        // O_NONBLOCK: a FIFO in its place must not block the open; it is refused below.
        log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard log >= 0 else { throw RunError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(log, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(log)
            throw RunError("\(logPath) is not a regular file")
        }
    }

    deinit { if log >= 0 { close(log) } }

    /// `mkdir -p`, with the system's reason for the component that cannot be made.
    private static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RunError("cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A default location: `runs/<config name>-<UTC timestamp>`.
    public static func defaultPath(configPath: String, date: Date = Date()) -> String {
        let base = ((configPath as NSString).lastPathComponent as NSString).deletingPathExtension
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "runs/\(base)-\(f.string(from: date))"
    }

    /// Appends a line to `log.txt`; a failed write (a full disk) is an error naming the file.
    public func appendLog(_ line: String) throws {
        guard writes else { return }
        var text = line + "\n"
        let written = text.withUTF8 { bytes in Glibc.write(log, bytes.baseAddress, bytes.count) }
        guard written == text.utf8.count else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "only \(written) bytes written"
            throw RunError("cannot append to \(path)/log.txt: \(reason)")
        }
    }

    public func write(_ name: String, _ text: String) throws {
        guard writes else { return }
        try AtomicFile.write(Array(text.utf8), to: path + "/" + name)
    }

    /// A file of the run as text, nil when there is none; one that cannot be read as a file of
    /// at most 64 MiB is an error naming it.
    public func read(_ name: String) throws -> String? {
        let file = path + "/" + name
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return String(decoding: try BoundedFile.readAll(file, limit: 64 << 20, what: name), as: UTF8.self)
    }
}

public struct RunError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
