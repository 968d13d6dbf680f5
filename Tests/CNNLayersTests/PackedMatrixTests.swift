import CNNAVX512
import CNNCore
import XCTest

/// `PackedMatrix` against the three-loop product, on shapes that leave a partial last panel
/// (N not a multiple of 48, and one under 16 floats into a vector), with panels of 32 (N = 128,
/// 32), panels of 48 and a last one of 32 (N = 512, 100, 68, 20), and a partial last block of rows
/// (m not a multiple of 8).
final class PackedMatrixTests: XCTestCase {
    /// 48 columns per panel unless that pads N by more than a sixteenth and 32 divides N; the
    /// last panel 32 wide where one of 48 would hold 32 columns or fewer.
    func testPanelWidths() {
        let matrices = [512, 384, 128, 100, 64, 37, 20, 32].map { PackedMatrix(rows: 3, columns: $0) }
        XCTAssertEqual(matrices.map(\.panel), [48, 48, 32, 48, 32, 48, 48, 32])
        XCTAssertEqual(matrices.map(\.lastPanel), [32, 48, 32, 32, 32, 48, 32, 32])
        XCTAssertEqual(matrices.map(\.floats), [3 * 512, 3 * 384, 3 * 128, 3 * 128, 3 * 64, 3 * 48, 3 * 32, 3 * 32])
    }

    /// `C = bias + [A₁ A₂] · B` with B packed as two blocks of rows from `W₁ᵀ` and `W₂ᵀ`, as a
    /// fused LSTM step packs `[W_ih | W_hh]ᵀ`; then `C +=` of the same product without a bias.
    func testTwoOperandsAndBiasMatchTheDefinition() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the packed kernel needs AVX-512")
        var rng = RNG(seed: 7)
        for (m, k1, k2, n) in [(11, 5, 7, 100), (8, 3, 9, 68), (17, 28, 16, 37), (13, 6, 10, 128), (5, 2, 3, 32),
                               (9, 4, 5, 512), (3, 2, 2, 20)] {
            let k = k1 + k2, lda1 = k1 + 2, lda2 = k2 + 3
            let a1 = (0..<m * lda1).map { _ in rng.uniform() - 0.5 }, a2 = (0..<m * lda2).map { _ in rng.uniform() - 0.5 }
            // W₁ [N, k1] and W₂ [N, k2], row-major: B = [W₁ | W₂]ᵀ, B[j, c] = W[c, j].
            let w1 = (0..<n * k1).map { _ in rng.uniform() - 0.5 }, w2 = (0..<n * k2).map { _ in rng.uniform() - 0.5 }
            let bias = (0..<n).map { _ in rng.uniform() - 0.5 }
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for c in 0..<n {
                    var s = bias[c]
                    for j in 0..<k1 { s += a1[i * lda1 + j] * w1[c * k1 + j] }
                    for j in 0..<k2 { s += a2[i * lda2 + j] * w2[c * k2 + j] }
                    expected[i * n + c] = s
                }
            }
            let matrix = PackedMatrix(rows: k, columns: n)
            var packed = [Float](repeating: .nan, count: matrix.floats)
            packed.withUnsafeMutableBufferPointer { p in
                matrix.pack(w1, ld: k1, transposed: true, into: p.baseAddress!, rowCount: k1)
                matrix.pack(w2, ld: k2, transposed: true, into: p.baseAddress!, firstRow: k1)
            }
            let ldc = n + 1
            var c = [Float](repeating: .nan, count: m * ldc)
            a1.withUnsafeBufferPointer { a1 in
                a2.withUnsafeBufferPointer { a2 in
                    let first = PackedMatrix.Operand(a1.baseAddress!, stride: lda1, columns: k1)
                    let second = PackedMatrix.Operand(a2.baseAddress!, stride: lda2, columns: k2)
                    matrix.multiply(m: m, first, second, bias: bias, packed: packed, c: &c, ldc: ldc, accumulate: false)
                    for i in 0..<m {
                        for j in 0..<n { XCTAssertEqual(c[i * ldc + j], expected[i * n + j], accuracy: 1e-5, "\(m)x\(n) [\(i), \(j)]") }
                        XCTAssert(c[i * ldc + n].isNaN, "wrote past N in row \(i)")
                    }
                    matrix.multiply(m: m, first, second, packed: packed, c: &c, ldc: ldc, accumulate: true)
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    XCTAssertEqual(c[i * ldc + j], 2 * expected[i * n + j] - bias[j], accuracy: 2e-5, "accumulate [\(i), \(j)]")
                }
            }
        }
    }
}
