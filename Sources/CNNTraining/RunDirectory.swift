import Foundation

/// The files of one training run: `config.json` (the resolved config, model inline), `log.txt`,
/// `metrics.csv`, `curves.svg`, and the checkpoints `last`/`best` (+ `.state`). Every file but the
/// log is replaced atomically, so a killed run never leaves half a file behind.
public final class RunDirectory {
    public let path: String
    private let log: FileHandle

    /// Creates (or, for a resume, reopens) the directory.
    public init(path: String, resuming: Bool) throws {
        self.path = path
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RunError("\(path) exists and is not a directory") }
            if !resuming && fm.fileExists(atPath: path + "/last.safetensors") {
                throw RunError("\(path) already holds a run; continue it with --resume \(path) or choose another --out")
            }
        } else {
            if resuming { throw RunError("\(path): no such run directory to resume") }
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw RunError("cannot create \(path): \(error.localizedDescription)")
            }
        }
        let logPath = path + "/log.txt"
        if !fm.fileExists(atPath: logPath) { fm.createFile(atPath: logPath, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: logPath) else { throw RunError("cannot write \(logPath)") }
        handle.seekToEndOfFile()
        log = handle
    }

    deinit { try? log.close() }

    /// A default location: `runs/<config name>-<UTC timestamp>`.
    public static func defaultPath(configPath: String, date: Date = Date()) -> String {
        let base = ((configPath as NSString).lastPathComponent as NSString).deletingPathExtension
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "runs/\(base)-\(f.string(from: date))"
    }

    public func appendLog(_ line: String) {
        log.write(Data((line + "\n").utf8))
    }

    public func write(_ name: String, _ text: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path + "/" + name)
    }

    public func read(_ name: String) -> String? {
        try? String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }
}

public struct RunError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
