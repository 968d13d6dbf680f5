import XCTest

@testable import CNNVisual

/// PCA through LAPACK against decompositions known in closed form.
final class PCATests: XCTestCase {
    /// Points on a line through (1, 2, 3) along (3, 4, 0)/5, plus offsets along z uncorrelated with t:
    /// the first component is the line's direction, the second z.
    func testRecoversAKnownBasis() throws {
        let ts: [Float] = [-2, -1, 0, 1, 2], zs: [Float] = [0.1, -0.1, 0, -0.1, 0.1]
        var rows: [Float] = []
        for (t, z) in zip(ts, zs) { rows += [1 + 0.6 * t, 2 + 0.8 * t, 3 + z] }
        let pca = try PCA(rows: rows, count: 5, dimension: 3, components: 2)
        XCTAssertEqual(pca.mean[0], 1, accuracy: 1e-6)
        XCTAssertEqual(pca.mean[2], 3, accuracy: 1e-6)
        for (a, b) in zip(pca.components[0], [0.6, 0.8, 0] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(abs(pca.components[1][2]), 1, accuracy: 1e-4)
        // Var(t) = 10/4, var(z) = 0.04/4.
        XCTAssertEqual(pca.variances[0], 2.5, accuracy: 1e-5)
        XCTAssertEqual(pca.variances[1], 0.01, accuracy: 1e-5)
        XCTAssertEqual(pca.explainedRatios[0], 2.5 / 2.51, accuracy: 1e-5)
        let projected = pca.project(rows, count: 5)
        for (i, t) in ts.enumerated() { XCTAssertEqual(projected[2 * i], t, accuracy: 1e-5) }
    }

    /// A diagonal covariance: components are the axes, ordered by variance, with positive signs.
    func testAxesOrderedByVarianceWithFixedSigns() throws {
        let rows: [Float] = [-1, 0, 0, 1, 0, 0, 0, -2, 0, 0, 2, 0, 0, 0, -3, 0, 0, 3]
        let pca = try PCA(rows: rows, count: 6, dimension: 3, components: 3)
        XCTAssertEqual(pca.components[0].map { ($0 * 1e4).rounded() / 1e4 }, [0, 0, 1])
        XCTAssertEqual(pca.components[1].map { ($0 * 1e4).rounded() / 1e4 }, [0, 1, 0])
        XCTAssertEqual(pca.components[2].map { ($0 * 1e4).rounded() / 1e4 }, [1, 0, 0])
        let expected: [Float] = [18.0 / 5, 8.0 / 5, 2.0 / 5]
        for (a, b) in zip(pca.variances, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
