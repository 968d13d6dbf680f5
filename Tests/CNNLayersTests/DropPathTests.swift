import CNNCore
import CNNTestSupport
import XCTest
@testable import CNNLayers

/// Stochastic depth: the identity in inference; in training each sample's whole map is kept and
/// scaled by 1/(1 − p) or zeroed, so the expectation is the input.
final class DropPathTests: XCTestCase {
    private func layer(rate: Double, shape: Shape = [2, 3]) throws -> any Layer {
        try GradientCheck.build(DropPath.registration, config: ["rate": .double(rate)], inputs: [shape])
    }

    func testIdentityInInference() throws {
        let l = try layer(rate: 0.5)
        let x = Tensor(shape: [4, 2, 3], values: (0..<24).map { Float($0) - 7 })
        let y = GradientCheck.forward(l, inputs: [x], parameters: [], training: false)
        XCTAssertEqual(y.array, x.array)
    }

    func testTrainingKeepsOrDropsWholeSamplesAndPreservesTheExpectation() throws {
        let p = 0.25, n = 20_000, l = try layer(rate: p)
        let x = Tensor(shape: [n, 2, 3], values: (0..<n * 6).map { Float($0 % 6) + 1 })
        let y = GradientCheck.forward(l, inputs: [x], parameters: [], training: true, seed: 3)
        var dropped = 0, sum = [Double](repeating: 0, count: 6)
        for b in 0..<n {
            let s = (0..<6).map { y.data[b * 6 + $0] / x.data[b * 6 + $0] }
            XCTAssertTrue(s.allSatisfy { $0 == s[0] } && (s[0] == 0 || abs(s[0] - Float(1 / (1 - p))) < 1e-6),
                          "sample \(b) is not dropped or kept whole: \(s)")
            if s[0] == 0 { dropped += 1 }
            for i in 0..<6 { sum[i] += Double(y.data[b * 6 + i]) }
        }
        // Binomial: the dropped fraction within 4σ of p, σ = √(p(1 − p)/n) ≈ 0.003.
        XCTAssertEqual(Double(dropped) / Double(n), p, accuracy: 4 * (p * (1 - p) / Double(n)).squareRoot())
        for i in 0..<6 {
            // The mean of x·m with E[m] = 1: within 4σ, σ = x·√(p/(1 − p)/n).
            let x = Double(i + 1)
            XCTAssertEqual(sum[i] / Double(n), x, accuracy: 4 * x * (p / (1 - p) / Double(n)).squareRoot())
        }
    }

    func testZeroRateIsTheIdentityInTraining() throws {
        let l = try layer(rate: 0)
        let x = Tensor(shape: [3, 2, 3], values: (0..<18).map { Float($0) * 0.5 })
        XCTAssertEqual(GradientCheck.forward(l, inputs: [x], parameters: [], training: true).array, x.array)
    }
}
