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
        XCTAssertEqual(try GzipFile.read(path + ".gz"), bytes)
        XCTAssertEqual(try GzipFile.read(path), bytes)
    }

    func testTruncatedStreamIsAnError() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = temporary("t.bin")
        try gzip(bytes, to: path)
        let full = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        let cut = temporary("cut.gz")
        XCTAssertTrue(FileManager.default.createFile(atPath: cut,
                                                     contents: full.prefix(full.count / 2)))
        XCTAssertThrowsError(try GzipFile.read(cut)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(cut): truncated or corrupt compressed data"), "\(error)")
        }
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try GzipFile.read("/no/such/file.gz")) { error in
            XCTAssertEqual("\(error)", "/no/such/file.gz: cannot open: No such file or directory")
        }
    }
}
