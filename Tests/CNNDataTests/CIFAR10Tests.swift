import CNNCore
import XCTest

@testable import CNNData

final class CIFAR10Tests: XCTestCase {
    /// A CIFAR-10 binary record: the label byte, then 3,072 image bytes (R plane, G, B).
    private func record(label: UInt8, _ fill: (Int) -> UInt8) -> [UInt8] {
        [label] + (0..<3072).map(fill)
    }

    func testRecordsParseAsCHWAcrossFiles() throws {
        let dir = TestFiles.directory("cifar")
        // File 1: record 0 (label 3) has byte 255 at image byte 1024 — the first green pixel —
        // and 0 elsewhere; record 1 (label 9) has byte 51 everywhere. File 2: one record,
        // label 0, image byte k = k mod 256.
        var r0 = record(label: 3) { _ in 0 }
        r0[1 + 1024] = 255
        TestFiles.write(r0 + record(label: 9) { _ in 51 }, to: "\(dir)/a.bin")
        TestFiles.write(record(label: 0) { UInt8($0 % 256) }, to: "\(dir)/b.bin")
        try TestFiles.gzip("\(dir)/b.bin")
        let d = try CIFAR10.load(files: ["\(dir)/a.bin", "\(dir)/b.bin.gz"], name: "c")
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.sampleShape, [3, 32, 32])
        XCTAssertEqual(d.labels, [3, 9, 0])
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(d.classNames?[3], "cat")
        // Sample 0: channel 1 (green), row 0, column 0 is value index 1·1024 = 1024.
        XCTAssertEqual(d.values[1024], 1)
        XCTAssertEqual(d.values[0..<3072].reduce(0, +), 1)
        // Sample 1 is 51/255 = 0.2 everywhere.
        XCTAssertEqual(Set(d.values[3072..<6144]), [0.2])
        // Sample 2, blue plane (index 2048 + 5 → byte (2048 + 5) mod 256 = 5).
        XCTAssertEqual(d.values[2 * 3072 + 2048 + 5], Float(5) / 255)
    }

    func testSizeNotAMultipleOfTheRecord() {
        let dir = TestFiles.directory("cifar-size")
        TestFiles.write(record(label: 1) { _ in 0 }.dropLast(), to: "\(dir)/short.bin")
        XCTAssertThrowsError(try CIFAR10.load(files: ["\(dir)/short.bin"], name: "c")) { e in
            XCTAssertEqual("\(e)", "\(dir)/short.bin: size 3072 bytes is not a positive multiple "
                           + "of 3073 (a CIFAR-10 binary record is 1 label byte + 3072 image "
                           + "bytes)")
        }
    }

    func testLabelAboveNine() {
        let dir = TestFiles.directory("cifar-label")
        TestFiles.write(record(label: 2) { _ in 0 } + record(label: 10) { _ in 0 },
                        to: "\(dir)/bad.bin")
        XCTAssertThrowsError(try CIFAR10.load(files: ["\(dir)/bad.bin"], name: "c")) { e in
            XCTAssertEqual("\(e)", "\(dir)/bad.bin: record 1 (byte offset 3073) has label 10; "
                           + "CIFAR-10 labels are 0...9")
        }
    }
}
