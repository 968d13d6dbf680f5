import CNNCore
import XCTest

@testable import CNNData

final class LabeledDatasetTests: XCTestCase {
    /// Ten samples of [2] whose values are (index, −index) and labels index mod 2.
    let data = LabeledDataset(name: "d", sampleShape: [2],
                              values: (0..<10).flatMap { [Float($0), -Float($0)] },
                              labels: (0..<10).map { Int32($0 % 2) }, classCount: 2,
                              classNames: ["even", "odd"])

    func testSubsetCopiesSamplesInTheGivenOrder() {
        let s = data.subset([7, 2, 2], name: "s")
        XCTAssertEqual(s.name, "s")
        XCTAssertEqual(s.values, [7, -7, 2, -2, 2, -2])
        XCTAssertEqual(s.labels, [1, 0, 0])
        XCTAssertEqual(s.classCount, 2)
        XCTAssertEqual(s.classNames, ["even", "odd"])
    }

    func testSplitIsASeededPartition() {
        let (train, validation) = data.split(validationFraction: 0.3, seed: 5)
        // round(0.3 · 10) = 3 held out.
        XCTAssertEqual(validation.count, 3)
        XCTAssertEqual(train.count, 7)
        let trainIndices = stride(from: 0, to: train.values.count, by: 2).map {
            Int(train.values[$0])
        }
        let validationIndices = stride(from: 0, to: validation.values.count, by: 2).map {
            Int(validation.values[$0])
        }
        XCTAssertEqual((trainIndices + validationIndices).sorted(), Array(0..<10))
        // Each part keeps the source order, and labels stay with their samples.
        XCTAssertEqual(trainIndices, trainIndices.sorted())
        XCTAssertEqual(validation.labels, validationIndices.map { Int32($0 % 2) })
        XCTAssertEqual(validation.name, "d (validation part)")
        // The same seed repeats the split; the held-out set depends on the seed.
        XCTAssertEqual(data.split(validationFraction: 0.3, seed: 5).validation.values,
                       validation.values)
        let others = (6..<12).map {
            data.split(validationFraction: 0.3, seed: UInt64($0)).validation.values
        }
        XCTAssertTrue(others.contains { $0 != validation.values })
    }
}
