import CNNAVX512
import CNNCore
import XCTest

/// `TransposedWeightGradient` against the three-loop product: K over three blocks (256 + 256 +
/// 88), N = 28, 11, 9, 8, 7 and 6 (every count of rows in a last block of C, which repeats the
/// last row: 4, 5, 3, 2, 1 and a whole 6), columns of A taken from inside wider rows (a part's
/// share of the gates), C rows wider than M.
final class TransposedWeightGradientTests: XCTestCase {
    func testMatchesTheDefinitionOverOrAddingInto() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the kernel needs AVX-512")
        var rng = RNG(seed: 3)
        for n in [28, 11, 9, 8, 7, 6] { check(n: n, rng: &rng) }
        XCTAssertFalse(TransposedWeightGradient.supports(m: 96))
    }

    private func check(n: Int, rng: inout RNG) {
        let (k, m, lda, offset, ldb, ldc) = (600, 128, 320, 64, n + 2, 136)
        let a = (0..<k * lda).map { _ in rng.uniform() - 0.5 }, b = (0..<k * ldb).map { _ in rng.uniform() - 0.5 }
        var expected = [Float](repeating: 0, count: n * m)
        for j in 0..<n {
            for i in 0..<m {
                var s: Float = 0
                for r in 0..<k { s += b[r * ldb + j] * a[r * lda + offset + i] }
                expected[j * m + i] = s
            }
        }
        var c = [Float](repeating: .nan, count: (n + 1) * ldc)
        a.withUnsafeBufferPointer { a in
            for accumulate in [false, true] {
                TransposedWeightGradient.multiply(k: k, a: a.baseAddress! + offset, lda: lda, m: m, b: b, ldb: ldb, n: n,
                                                  c: &c, ldc: ldc, accumulate: accumulate)
            }
        }
        for j in 0..<n {
            for i in 0..<m {
                XCTAssertEqual(c[j * ldc + i], 2 * expected[j * m + i], accuracy: 1e-3, "N = \(n) [\(j), \(i)]")
            }
            XCTAssert(c[j * ldc + m].isNaN, "wrote past M in row \(j)")
        }
        XCTAssert(c[n * ldc..<n * ldc + m].allSatisfy(\.isNaN), "N = \(n): wrote past row N")
    }
}
