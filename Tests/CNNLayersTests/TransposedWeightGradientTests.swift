import CNNAVX512
import CNNCore
import XCTest

/// `TransposedWeightGradient` against the three-loop product: K over three blocks (256 + 256 +
/// 88), N = 28 (a partial last block of 6 rows of C), columns of A taken from inside wider rows
/// (a part's share of the gates), C rows wider than M.
final class TransposedWeightGradientTests: XCTestCase {
    func testMatchesTheDefinitionOverOrAddingInto() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the kernel needs AVX-512")
        var rng = RNG(seed: 3)
        let (k, m, n, lda, offset, ldb, ldc) = (600, 128, 28, 320, 64, 30, 136)
        let a = (0..<k * lda).map { _ in rng.uniform() - 0.5 }, b = (0..<k * ldb).map { _ in rng.uniform() - 0.5 }
        var expected = [Float](repeating: 0, count: n * m)
        for j in 0..<n {
            for i in 0..<m {
                var s: Float = 0
                for r in 0..<k { s += b[r * ldb + j] * a[r * lda + offset + i] }
                expected[j * m + i] = s
            }
        }
        var c = [Float](repeating: .nan, count: n * ldc)
        a.withUnsafeBufferPointer { a in
            for accumulate in [false, true] {
                TransposedWeightGradient.multiply(k: k, a: a.baseAddress! + offset, lda: lda, m: m, b: b, ldb: ldb, n: n,
                                                  c: &c, ldc: ldc, accumulate: accumulate)
            }
        }
        for j in 0..<n {
            for i in 0..<m {
                XCTAssertEqual(c[j * ldc + i], 2 * expected[j * m + i], accuracy: 1e-3, "[\(j), \(i)]")
            }
            XCTAssert(c[j * ldc + m].isNaN, "wrote past M in row \(j)")
        }
        XCTAssertFalse(TransposedWeightGradient.supports(m: 96))
    }
}
