import XCTest
import CNNCore
import CNNTestSupport

final class PaddingTests: XCTestCase {
    /// The row `a b c d` padded by 2 on each side, as indices (−1 = zero).
    func padded(_ mode: PaddingMode, length n: Int = 4, pad: Int = 2) -> [Int] {
        (-pad..<(n + pad)).map { mode.sourceIndex($0, length: n) }
    }

    func testDocumentedTables() {
        XCTAssertEqual(padded(.zeros), [-1, -1, 0, 1, 2, 3, -1, -1])
        XCTAssertEqual(padded(.reflect), [2, 1, 0, 1, 2, 3, 2, 1])
        XCTAssertEqual(padded(.symmetric), [1, 0, 0, 1, 2, 3, 3, 2])
        XCTAssertEqual(padded(.replicate), [0, 0, 0, 1, 2, 3, 3, 3])
        XCTAssertEqual(padded(.circular), [2, 3, 0, 1, 2, 3, 0, 1])
    }

    func testReferenceAgreesWithDocumentedTables() {
        for mode in PaddingMode.allCases {
            let reference = (-2..<6).map { referenceSource(mode, $0, length: 4) }
            XCTAssertEqual(padded(mode), reference, "\(mode)")
        }
    }

    func testInsideIndicesAreIdentity() {
        for mode in PaddingMode.allCases {
            for n in 1...5 {
                let inside = (0..<n).map { mode.sourceIndex($0, length: n) }
                XCTAssertEqual(inside, Array(0..<n), "\(mode)")
            }
        }
    }

    /// Pads larger than the row keep mirroring / wrapping.
    func testPadsLargerThanRow() {
        XCTAssertEqual(padded(.reflect, length: 3, pad: 5),
                       [1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1])
        XCTAssertEqual(padded(.symmetric, length: 3, pad: 5),
                       [1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1])
        XCTAssertEqual(padded(.circular, length: 3, pad: 5),
                       [1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
        for mode in PaddingMode.allCases {
            for n in 1...6 {
                for i in -20..<(n + 20) {
                    XCTAssertEqual(mode.sourceIndex(i, length: n),
                                   referenceSource(mode, i, length: n), "\(mode) i=\(i) n=\(n)")
                }
            }
        }
    }

    func testLengthOneRows() {
        XCTAssertEqual(padded(.zeros, length: 1, pad: 3), [-1, -1, -1, 0, -1, -1, -1])
        for mode in [PaddingMode.reflect, .symmetric, .replicate, .circular] {
            XCTAssertEqual(padded(mode, length: 1, pad: 3), [0, 0, 0, 0, 0, 0, 0], "\(mode)")
        }
    }

    func testLengthTwoRows() {
        // reflect alternates (the edge pixel is never repeated); symmetric repeats it.
        XCTAssertEqual(padded(.reflect, length: 2, pad: 3), [1, 0, 1, 0, 1, 0, 1, 0])
        XCTAssertEqual(padded(.symmetric, length: 2, pad: 3), [1, 1, 0, 0, 1, 1, 0, 0])
    }
}
