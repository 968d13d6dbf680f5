import CNNCore
import Foundation
import XCTest

@testable import CNNTraining

/// In-process fuzzing of the safetensors reader, where a trap would end the test run: a real
/// file's header length, header bytes and data, mutated with a seed; every read either succeeds
/// or throws a `CheckpointError` naming the file. `CNNCTL_FUZZ_SCALE` multiplies the count.
final class SafeTensorsFuzzTests: XCTestCase {
    func testMutatedFilesReadOrFailNamingTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-stfuzz-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/f.safetensors"
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7]
        try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try SafeTensors.write([("a", [2, 3], pa), ("b", [1], pb)],
                                      metadata: ["step": "4", "progress": #"{"epoch":1,"batch":2}"#], to: path)
            }
        }
        let original = [UInt8](FileManager.default.contents(atPath: path)!)
        let scale = Int(ProcessInfo.processInfo.environment["CNNCTL_FUZZ_SCALE"] ?? "") ?? 1
        var rng = RNG(seed: 77)
        var read = 0, rejected = 0
        for _ in 0..<3_000 * scale {
            var bytes = original
            for _ in 0..<1 + Int(rng.next() % 3) {
                let i = Int(rng.next() % UInt64(max(bytes.count, 1)))
                switch rng.next() % 5 {
                case 0 where !bytes.isEmpty: bytes[i] ^= UInt8(1 << (rng.next() % 8))
                case 1: bytes = Array(bytes.prefix(i))
                case 2 where bytes.count > 8: bytes[Int(rng.next() % 8)] = UInt8(truncatingIfNeeded: rng.next())
                case 3 where !bytes.isEmpty: bytes[i] = Array("0123456789-[]{},\"e.".utf8)[Int(rng.next() % 19)]
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: min(i, bytes.count))
                }
            }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                let file = try SafeTensors.read(path, maxDataBytes: 1 << 20)
                for name in file.names { _ = try file.values(of: name) }
                read += 1
            } catch let error as CheckpointError {
                XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(read, 0)
        XCTAssertGreaterThan(rejected, read)
    }
}
