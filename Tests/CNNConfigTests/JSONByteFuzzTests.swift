import CNNCore
import Foundation
import XCTest

@testable import CNNConfig

/// Byte-level fuzzing of the JSON reader in process, where a trap would end the test run:
/// seeded flips, cuts, insertions and NULs in every shipped model file, each either parsed or
/// rejected with a `ConfigError` at a place. `CNNCTL_FUZZ_SCALE` multiplies the count.
final class JSONByteFuzzTests: XCTestCase {
    func testMutatedBytesParseOrFailWithAPlace() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/models")
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThan(files.count, 5)
        let scale = Int(ProcessInfo.processInfo.environment["CNNCTL_FUZZ_SCALE"] ?? "") ?? 1
        var rng = RNG(seed: 404)
        var parsed = 0, rejected = 0
        for file in files {
            let original = [UInt8](try Data(contentsOf: root.appendingPathComponent(file)))
            for _ in 0..<400 * scale {
                var bytes = original
                for _ in 0..<1 + Int(rng.next() % 4) {
                    let i = Int(rng.next() % UInt64(max(bytes.count, 1)))
                    switch rng.next() % 5 {
                    case 0 where !bytes.isEmpty: bytes[i] ^= UInt8(1 << (rng.next() % 8))
                    case 1: bytes = Array(bytes.prefix(i))
                    case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: min(i, bytes.count))
                    case 3 where !bytes.isEmpty: bytes[i] = 0
                    default: bytes.insert(contentsOf: Array("\"\\u0000[{".utf8), at: min(i, bytes.count))
                    }
                }
                do {
                    _ = try JSONSource.parse(String(decoding: bytes, as: UTF8.self), file: file)
                    parsed += 1
                } catch let error as ConfigError {
                    XCTAssertEqual(error.file, file)
                    rejected += 1
                }
            }
        }
        XCTAssertGreaterThan(parsed, 0)
        XCTAssertGreaterThan(rejected, parsed)
    }
}
