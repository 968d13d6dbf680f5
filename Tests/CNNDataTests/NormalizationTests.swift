import CNNCore
import XCTest

@testable import CNNData

final class NormalizationTests: XCTestCase {
    /// Two samples of [2, 1, 2]: channel 0 holds 1, 3 and 5, 7; channel 1 is constant 2.
    let dataset = LabeledDataset(name: "n", sampleShape: [2, 1, 2],
                                 values: [1, 3, 2, 2, 5, 7, 2, 2], labels: [0, 1],
                                 classCount: 2, classNames: nil)

    func testComputeGivesPopulationStatisticsPerChannel() {
        let n = Normalization.compute(from: dataset)
        // Channel 0: mean (1+3+5+7)/4 = 4, variance (9+1+1+9)/4 = 5 (population, as
        // torch.std(unbiased=False)), std √5. Channel 1: mean 2, variance 0 → std 1.
        XCTAssertEqual(n, Normalization(mean: [4, 2], std: [Float(5.0.squareRoot()), 1]))
    }

    func testApplyStandardizesEachChannel() {
        let n = Normalization(mean: [4, 2], std: [2, 0.5])
        var x: [Float] = [1, 3, 2, 3]
        x.withUnsafeMutableBufferPointer { n.apply($0.baseAddress!, shape: [2, 1, 2]) }
        // (1−4)/2 = −1.5, (3−4)/2 = −0.5, (2−2)/0.5 = 0, (3−2)/0.5 = 2.
        XCTAssertEqual(x, [-1.5, -0.5, 0, 2])
    }

    func testVectorSamplesAreOneChannel() {
        let d = LabeledDataset(name: "v", sampleShape: [3], values: [0, 1, 2, 4, 5, 6],
                               labels: [0, 0], classCount: 1, classNames: nil)
        let n = Normalization.compute(from: d)
        // Mean 18/6 = 3; squared deviations 9+4+1+1+4+9 = 28, variance 28/6, std √(14/3).
        XCTAssertEqual(n.mean, [3])
        XCTAssertEqual(n.std, [Float((28.0 / 6).squareRoot())])
    }
}
