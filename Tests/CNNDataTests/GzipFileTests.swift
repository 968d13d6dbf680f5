import Foundation
import XCTest

@testable import CNNData

final class GzipFileTests: XCTestCase {
    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-gz-\(getpid())-\(name)").path
    }

    /// Writes `bytes` with the system gzip so the test reads data zlib did not write itself.
    private func gzip(_ bytes: [UInt8], to path: String) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", "-k", path]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testReadsGzipAndPlainFilesAlike() throws {
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        let path = temporary("a.bin")
        try gzip(bytes, to: path)
        XCTAssertEqual(try GzipFile.read(path + ".gz", limit: 1 << 20, what: "test file"), bytes)
        XCTAssertEqual(try GzipFile.read(path, limit: 1 << 20, what: "test file"), bytes)
    }

    func testTruncatedStreamIsAnError() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = temporary("t.bin")
        try gzip(bytes, to: path)
        let full = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        let cut = temporary("cut.gz")
        XCTAssertTrue(FileManager.default.createFile(atPath: cut,
                                                     contents: full.prefix(full.count / 2)))
        XCTAssertThrowsError(try GzipFile.read(cut, limit: 1 << 20, what: "test file")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(cut): truncated or corrupt compressed data"), "\(error)")
        }
    }

    /// A stream inflating past the caller's limit stops there (a gzip bomb never fills memory).
    func testInflationStopsAtTheLimit() throws {
        let path = temporary("zeros.bin")
        try gzip([UInt8](repeating: 0, count: 4 << 20), to: path)
        XCTAssertThrowsError(try GzipFile.read(path + ".gz", limit: 1 << 20, what: "test file")) { error in
            XCTAssertEqual("\(error)", "\(path).gz: holds more than the 1.00 MiB a test file may have (decompressed)")
        }
        XCTAssertEqual(try GzipFile(path + ".gz").read(upTo: 10), [UInt8](repeating: 0, count: 10))
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try GzipFile.read("/no/such/file.gz", limit: 1 << 20, what: "test file")) { error in
            XCTAssertEqual("\(error)", "/no/such/file.gz: cannot open: No such file or directory")
        }
    }
}
