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

    /// Two labels per sample travel with their sample through subset and split, and a view
    /// keeps everything but the presented shape.
    func testLabelsPerSampleSubsetSplitAndView() {
        let pairs = LabeledDataset(name: "p", sampleShape: [1, 1, 2],
                                   values: (0..<12).map(Float.init),
                                   labels: (0..<12).map { Int32($0 % 4) }, classCount: 4,
                                   classNames: nil, labelsPerSample: 2)
        XCTAssertEqual(pairs.count, 6)
        // Sample i holds values 2i, 2i + 1 and labels (2i mod 4), (2i + 1 mod 4).
        let s = pairs.subset([4, 1], name: "s")
        XCTAssertEqual(s.values, [8, 9, 2, 3])
        XCTAssertEqual(s.labels, [0, 1, 2, 3])
        XCTAssertEqual(s.labelsPerSample, 2)
        let (train, validation) = pairs.split(validationFraction: 0.5, seed: 1)
        XCTAssertEqual(train.count + validation.count, 6)
        XCTAssertEqual(validation.labels, validation.values.map { Int32(Int($0) % 4) })
        let viewed = pairs.viewed(as: .columns)
        XCTAssertEqual(viewed.inputShape, [2, 1])
        XCTAssertEqual(viewed.values, pairs.values)
        XCTAssertEqual(viewed.labels, pairs.labels)
        XCTAssertEqual(viewed.subset([0], name: "v").sequenceView, .columns)
        XCTAssertNil(pairs.sequenceView)
        XCTAssertEqual(pairs.inputShape, [1, 1, 2])
    }
}
