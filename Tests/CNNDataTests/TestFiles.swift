import CNNConfig
import Foundation

@testable import CNNData

/// Scratch files for data tests: one fresh directory per test case, under the system's
/// temporary directory, named by process id so parallel runs do not collide.
enum TestFiles {
    static func directory(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("cnnctl-data-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) {
        precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)),
                     "cannot write \(path)")
    }

    /// Compresses `path` to `path.gz` with the system gzip (keeping the original), so readers
    /// are tested on data zlib did not write itself.
    static func gzip(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", "-k", path]
        try p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "gzip failed on \(path)")
    }

    /// An IDX header: 0, 0, data type, dimension count, then big-endian UInt32 sizes.
    static func idxHeader(type: UInt8 = 0x08, _ dims: [Int]) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: d >> $0) }
        }
    }

    /// `json` loaded as the `data` section of a config `c.json` in `dir`.
    static func loadData(_ json: JSONValue, _ dir: String) throws -> LoadedData {
        try DataSpec.load(json, path: "data", file: "c.json", baseDirectory: dir)
    }

    /// The error `loadData` throws ("no error" if none), after its type's name when `typed`.
    static func loadError(_ json: JSONValue, _ dir: String, typed: Bool = false) -> String {
        do {
            _ = try loadData(json, dir)
            return "no error"
        } catch {
            return typed ? "\(type(of: error)): \(error)" : "\(error)"
        }
    }
}
