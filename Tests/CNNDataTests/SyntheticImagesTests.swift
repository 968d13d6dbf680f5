import CNNCore
import XCTest

@testable import CNNData

final class SyntheticImagesTests: XCTestCase {
    func testBalancedLabelsAndNoiselessSamplesEqualTheirPrototype() {
        let d = SyntheticImages.make(count: 7, shape: [1, 2, 2], classes: 3, seed: 9, noise: 0)
        XCTAssertEqual(d.sampleShape, [1, 2, 2])
        XCTAssertEqual(d.classCount, 3)
        // label = index mod classes.
        XCTAssertEqual(d.labels, [0, 1, 2, 0, 1, 2, 0])
        // Without noise, samples 0, 3 and 6 (class 0) are all the class-0 prototype, whose
        // pixels are in [0, 1); class 1's differs.
        XCTAssertEqual(Array(d.values[0..<4]), Array(d.values[12..<16]))
        XCTAssertEqual(Array(d.values[0..<4]), Array(d.values[24..<28]))
        XCTAssertNotEqual(Array(d.values[0..<4]), Array(d.values[4..<8]))
        XCTAssertTrue(d.values.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testDeterministicPerSampleAndStream() {
        let a = SyntheticImages.make(count: 5, shape: [3], classes: 2, seed: 1, noise: 0.5)
        let b = SyntheticImages.make(count: 8, shape: [3], classes: 2, seed: 1, noise: 0.5)
        // Sample i does not depend on how many samples are made.
        XCTAssertEqual(a.values, Array(b.values[0..<15]))
        // Another stream: other noise on the same prototypes (equal without noise).
        let c = SyntheticImages.make(count: 5, shape: [3], classes: 2, seed: 1, noise: 0.5,
                                     stream: 2)
        XCTAssertNotEqual(a.values, c.values)
        XCTAssertEqual(SyntheticImages.make(count: 5, shape: [3], classes: 2, seed: 1,
                                            noise: 0).values,
                       SyntheticImages.make(count: 5, shape: [3], classes: 2, seed: 1,
                                            noise: 0, stream: 2).values)
        XCTAssertNotEqual(a.values, SyntheticImages.make(count: 5, shape: [3], classes: 2,
                                                         seed: 2, noise: 0.5).values)
    }
}
