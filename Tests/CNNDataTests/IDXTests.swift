import CNNCore
import Foundation
import XCTest

@testable import CNNData

final class IDXTests: XCTestCase {
    /// Three 2x3 images whose pixel k is 51·k mod 256 (0, 51, …, 255, 50, …) and labels
    /// 2, 0, 1.
    let pixels: [UInt8] = (0..<18).map { UInt8(($0 * 51) % 256) }
    let labelBytes: [UInt8] = [2, 0, 1]

    private func writePair(_ dir: String, images: [UInt8]? = nil, labels: [UInt8]? = nil)
        -> (String, String) {
        let i = "\(dir)/images-idx3-ubyte", l = "\(dir)/labels-idx1-ubyte"
        TestFiles.write(images ?? TestFiles.idxHeader([3, 2, 3]) + pixels, to: i)
        TestFiles.write(labels ?? TestFiles.idxHeader([3]) + labelBytes, to: l)
        return (i, l)
    }

    private func assertError(_ images: String, _ labels: String, classNames: [String]? = nil,
                             _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try IDX.load(images: images, labels: labels, name: "t",
                                          classNames: classNames), line: line) { error in
            XCTAssertTrue(error is DataError, "\(type(of: error))", line: line)
            XCTAssertEqual("\(error)", expected, line: line)
        }
    }

    func testPlainAndGzipFilesRoundTrip() throws {
        let dir = TestFiles.directory("idx-roundtrip")
        let (i, l) = writePair(dir)
        try TestFiles.gzip(i)
        try TestFiles.gzip(l)
        for (images, labels) in [(i, l), (i + ".gz", l + ".gz")] {
            let d = try IDX.load(images: images, labels: labels, name: "tiny", classNames: nil)
            XCTAssertEqual(d.name, "tiny")
            XCTAssertEqual(d.sampleShape, [1, 2, 3])
            XCTAssertEqual(d.count, 3)
            XCTAssertEqual(d.labels, [2, 0, 1])
            // Without class names the classes are 0...max label = 0...2.
            XCTAssertEqual(d.classCount, 3)
            XCTAssertNil(d.classNames)
            // Byte b becomes b / 255: 0 → 0, 51 → 0.2, 255 (pixel 5) → 1, 306 mod 256 = 50 →
            // 50/255 (pixel 6).
            XCTAssertEqual(d.values, pixels.map { Float($0) / 255 })
            XCTAssertEqual(d.values[0], 0)
            XCTAssertEqual(d.values[1], 0.2)
            XCTAssertEqual(d.values[5], 1)
            XCTAssertEqual(d.values[6], Float(50) / 255)
        }
    }

    func testClassNamesSetTheClassCount() throws {
        let (i, l) = writePair(TestFiles.directory("idx-names"))
        let names = ["a", "b", "c", "d"]
        let d = try IDX.load(images: i, labels: l, name: "t", classNames: names)
        XCTAssertEqual(d.classCount, 4)
        XCTAssertEqual(d.classNames, names)
    }

    func testBadMagicNumbers() {
        let dir = TestFiles.directory("idx-magic")
        // The labels' magic (1 dimension) in the images file.
        var (i, l) = writePair(dir, images: TestFiles.idxHeader([3]) + [1, 2, 3])
        assertError(i, l, "\(i): bad magic number 0x00000801 (1 dimension(s)); expected "
                    + "0x00000803 for IDX images (unsigned bytes; dimensions count, rows, columns)")
        // Data type 0x0D (float) is not supported.
        (i, l) = writePair(dir, images: TestFiles.idxHeader(type: 0x0D, [3, 2, 3]) + pixels)
        assertError(i, l, "\(i): bad magic number 0x00000D03 (data type 0x0D); expected "
                    + "0x00000803 for IDX images (unsigned bytes; dimensions count, rows, columns)")
        // Not IDX at all (a PNG signature).
        (i, l) = writePair(dir, labels: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A])
        assertError(i, l, "\(l): bad magic number 0x89504E47 (not an IDX file); expected "
                    + "0x00000801 for IDX labels (unsigned bytes; dimension count)")
    }

    func testTruncatedAndOverlongFiles() {
        let dir = TestFiles.directory("idx-truncated")
        // 3 × 2 × 3 = 18 pixel bytes declared, 17 present.
        var (i, l) = writePair(dir, images: TestFiles.idxHeader([3, 2, 3]) + pixels.dropLast())
        assertError(i, l, "\(i): truncated: the header declares 3 × 2 × 3 = 18 data bytes, "
                    + "the file has 17 after the 16-byte header")
        // The header itself cut short: 4 + 4·3 = 16 bytes needed.
        (i, l) = writePair(dir, images: Array(TestFiles.idxHeader([3, 2, 3]).prefix(10)))
        assertError(i, l, "\(i): truncated: 10 bytes, shorter than the 16-byte header of "
                    + "IDX images (unsigned bytes; dimensions count, rows, columns)")
        (i, l) = writePair(dir, labels: [0, 0])
        assertError(i, l, "\(l): truncated: 2 bytes, shorter than the 4-byte IDX magic number")
        (i, l) = writePair(dir, labels: TestFiles.idxHeader([3]) + labelBytes + [7, 7])
        assertError(i, l, "\(l): more bytes than the header declares (3 = 3 data bytes after "
                    + "the 8-byte header)")
    }

    func testCountMismatchAndLabelRange() {
        let dir = TestFiles.directory("idx-counts")
        var (i, l) = writePair(dir, labels: TestFiles.idxHeader([2]) + [0, 1])
        assertError(i, l, "\(l): has 2 labels but \(i) has 3 images; the files must have one "
                    + "label per image")
        // Label 2 with two class names: valid labels are 0...1.
        (i, l) = writePair(dir)
        assertError(i, l, classNames: ["x", "y"], "\(l): label 2 of sample 0 is out of range: "
                    + "2 class names are given, so labels must be 0...1")
    }

    func testMissingFile() {
        let dir = TestFiles.directory("idx-missing")
        let (i, _) = writePair(dir)
        assertError(i, "\(dir)/nope.gz", "\(dir)/nope.gz: cannot open: No such file or directory")
    }

    /// The real test split, when the `dataset-fashion-mnist` package is installed: 10,000
    /// 28x28 images, 1,000 of each class (Xiao et al. 2017, Table 1).
    func testFashionMNISTTestSplit() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory) else {
            throw XCTSkip("\(FashionMNIST.defaultDirectory) is not installed")
        }
        let d = try FashionMNIST.load(split: "test", directory: FashionMNIST.defaultDirectory)
        XCTAssertEqual(d.count, 10_000)
        XCTAssertEqual(d.sampleShape, [1, 28, 28])
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(d.classNames?.first, "T-shirt/top")
        var perClass = [Int](repeating: 0, count: 10)
        for label in d.labels { perClass[Int(label)] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(d.values.min(), 0)
        XCTAssertEqual(d.values.max(), 1)
    }

    func testFashionMNISTMissingDirectorySuggestsThePackage() {
        XCTAssertThrowsError(try FashionMNIST.load(split: "train", directory: "/no/such/dir/"))
        { error in
            XCTAssertEqual("\(error)", "/no/such/dir/train-images-idx3-ubyte.gz: Fashion-MNIST "
                           + "train split not found (neither the file nor its unpacked copy is "
                           + "readable); install it with `apt-get install dataset-fashion-mnist`"
                           + " or give the directory that holds train-images-idx3-ubyte.gz and "
                           + "train-labels-idx1-ubyte.gz")
        }
        XCTAssertThrowsError(try FashionMNIST.load(split: "val", directory: "/tmp")) { error in
            XCTAssertEqual("\(error)", "unknown Fashion-MNIST split \"val\"; valid: train, test")
        }
    }
}
