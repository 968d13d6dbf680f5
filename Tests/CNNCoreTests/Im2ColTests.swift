import XCTest
import CNNCore
import CNNTestSupport

final class Im2ColTests: XCTestCase {
    /// Geometries that exercise stride, per-side padding, dilation, non-square kernels and pads
    /// larger than the image.
    let geometries: [WindowGeometry] = [
        WindowGeometry(channels: 2, height: 7, width: 6, kernelH: 3, kernelW: 3,
                       strideH: 2, strideW: 2, padTop: 1, padBottom: 2, padLeft: 0, padRight: 1),
        WindowGeometry(channels: 3, height: 6, width: 9, kernelH: 2, kernelW: 3,
                       strideH: 1, strideW: 2, padTop: 2, padBottom: 1, padLeft: 3, padRight: 0,
                       dilationH: 2, dilationW: 1),
        WindowGeometry(channels: 1, height: 5, width: 5, kernelH: 3, kernelW: 1,
                       padTop: 2, padBottom: 2, dilationH: 2),
        WindowGeometry(channels: 2, height: 3, width: 2, kernelH: 3, kernelW: 3,
                       padTop: 4, padBottom: 3, padLeft: 3, padRight: 4),
        WindowGeometry(channels: 3, height: 5, width: 4, kernelH: 1, kernelW: 1,
                       strideH: 2, strideW: 3),
        WindowGeometry(channels: 2, height: 6, width: 8, kernelH: 2, kernelW: 3,
                       strideH: 2, strideW: 1, padTop: 1, padBottom: 0, padLeft: 2, padRight: 2,
                       dilationH: 1, dilationW: 3),
    ]

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in rng.uniform(bound: 1) }
    }

    /// The input pixel `(h, w)` (−1 in either for a zero) read through tap (i, j) at (oh, ow).
    func naiveSource(_ g: WindowGeometry, _ mode: PaddingMode,
                     i: Int, oh: Int, j: Int, ow: Int) -> (h: Int, w: Int) {
        (referenceSource(mode, oh * g.strideH - g.padTop + i * g.dilationH, length: g.height),
         referenceSource(mode, ow * g.strideW - g.padLeft + j * g.dilationW, length: g.width))
    }

    /// `col[(c·kh + i)·kw + j, oh·OW + ow]` computed index by index from the definition.
    func naiveLower(_ x: [Float], _ g: WindowGeometry, _ mode: PaddingMode) -> [Float] {
        var col = [Float](repeating: .nan, count: g.columnRows * g.outArea)
        for c in 0..<g.channels { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
            for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
                let (h, w) = naiveSource(g, mode, i: i, oh: oh, j: j, ow: ow)
                let row = (c * g.kernelH + i) * g.kernelW + j
                col[row * g.outArea + oh * g.outWidth + ow] =
                    h < 0 || w < 0 ? 0 : x[(c * g.height + h) * g.width + w]
            }}
        }}}
        return col
    }

    func lower(_ x: [Float], _ lowering: Im2Col) -> [Float] {
        let g = lowering.geometry
        var col = [Float](repeating: .nan, count: g.columnRows * g.outArea)
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in
                lowering.lower(xp.baseAddress!, into: cp.baseAddress!)
            }
        }
        return col
    }

    func accumulate(_ col: [Float], _ lowering: Im2Col, into dx: inout [Float]) {
        col.withUnsafeBufferPointer { cp in
            dx.withUnsafeMutableBufferPointer { dp in
                lowering.accumulate(cp.baseAddress!, into: dp.baseAddress!)
            }
        }
    }

    func testOutputSizeFormula() {
        XCTAssertEqual([geometries[0].outHeight, geometries[0].outWidth], [4, 3])
        XCTAssertEqual([geometries[1].outHeight, geometries[1].outWidth], [7, 5])
        XCTAssertEqual([geometries[2].outHeight, geometries[2].outWidth], [5, 5])
        XCTAssertEqual([geometries[3].outHeight, geometries[3].outWidth], [8, 7])
        XCTAssertEqual([geometries[4].outHeight, geometries[4].outWidth], [3, 2])
        XCTAssertEqual([geometries[5].outHeight, geometries[5].outWidth], [3, 6])
        XCTAssertEqual(geometries[1].columnRows, 18)
    }

    func testLowerMatchesNaiveIndexing() {
        for (k, g) in geometries.enumerated() {
            let x = random(g.channels * g.height * g.width, seed: UInt64(k))
            for mode in PaddingMode.allCases {
                let lowering = Im2Col(g, mode: mode)
                XCTAssertEqual(lower(x, lowering), naiveLower(x, g, mode), "geometry \(k), \(mode)")
            }
        }
    }

    func testSourceLookupMatchesReference() {
        for g in geometries {
            for mode in PaddingMode.allCases {
                let lowering = Im2Col(g, mode: mode)
                for i in 0..<g.kernelH { for oh in 0..<g.outHeight {
                    for j in 0..<g.kernelW { for ow in 0..<g.outWidth {
                        let (h, w) = naiveSource(g, mode, i: i, oh: oh, j: j, ow: ow)
                        XCTAssertEqual(lowering.source(i: i, oh: oh, j: j, ow: ow),
                                       h < 0 || w < 0 ? -1 : h * g.width + w, "\(mode)")
                    }}
                }}
            }
        }
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
    func testAccumulateIsAdjointOfLower() {
        for (k, g) in geometries.enumerated() {
            let x = random(g.channels * g.height * g.width, seed: 100 + UInt64(k))
            let c = random(g.columnRows * g.outArea, seed: 200 + UInt64(k))
            for mode in PaddingMode.allCases {
                let lowering = Im2Col(g, mode: mode)
                let col = lower(x, lowering)
                var dx = [Float](repeating: 0, count: x.count)
                accumulate(c, lowering, into: &dx)
                let lhs = zip(col, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let rhs = zip(x, dx).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * max(1, abs(lhs)), "geometry \(k) \(mode)")
            }
        }
    }

    func testAccumulateAdds() {
        let g = geometries[0]
        let lowering = Im2Col(g, mode: .reflect)
        let c = random(g.columnRows * g.outArea, seed: 5)
        var once = [Float](repeating: 0, count: g.channels * g.height * g.width)
        var twice = [Float](repeating: 1, count: once.count)
        accumulate(c, lowering, into: &once)
        accumulate(c, lowering, into: &twice)
        for (a, b) in zip(once, twice) { XCTAssertEqual(a + 1, b, accuracy: 1e-6) }
    }

    // MARK: - gemm

    /// `C = alpha·op(A)·op(B) + beta·C` with `A` stored `m×k` (or `k×m` transposed) row-major.
    func naiveGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                   a: [Float], lda: Int, b: [Float], ldb: Int,
                   beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for r in 0..<m {
            for s in 0..<n {
                var acc = 0.0
                for t in 0..<k {
                    let av = transA ? a[t * lda + r] : a[r * lda + t]
                    let bv = transB ? b[s * ldb + t] : b[t * ldb + s]
                    acc += Double(av) * Double(bv)
                }
                let old = Double(c[r * ldc + s])
                out[r * ldc + s] = Float(Double(alpha) * acc + Double(beta) * old)
            }
        }
        return out
    }

    func testGemmAllTransposes() {
        let (m, n, k) = (3, 5, 4)
        for transA in [false, true] {
            for transB in [false, true] {
                for (alpha, beta): (Float, Float) in [(1, 0), (1.5, -0.5), (-2, 1)] {
                    let a = random(m * k, seed: 1), b = random(k * n, seed: 2)
                    var c = random(m * n, seed: 3)
                    let expected = naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                             alpha: alpha, a: a, lda: transA ? m : k,
                                             b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b,
                         beta: beta, c: &c)
                    for (x, y) in zip(c, expected) {
                        XCTAssertEqual(x, y, accuracy: 1e-5,
                                       "transA \(transA) transB \(transB) α \(alpha) β \(beta)")
                    }
                }
            }
        }
    }

    /// Explicit leading dimensions address sub-matrices of wider buffers; the padding columns of
    /// C stay untouched.
    func testGemmLeadingDimensions() {
        let (m, n, k) = (4, 3, 5)
        for transA in [false, true] {
            for transB in [false, true] {
                let lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3
                let a = random((transA ? k : m) * lda, seed: 11)
                let b = random((transB ? n : k) * ldb, seed: 12)
                var c = random(m * ldc, seed: 13)
                let expected = naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                         alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                                         beta: 2, c: c, ldc: ldc)
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                     b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
                for (x, y) in zip(c, expected) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            }
        }
    }

    /// An empty inner dimension is a sum of nothing: C = beta·C.
    func testGemmEmptyInnerDimension() {
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        let a: [Float] = [0], b: [Float] = [0]
        gemm(m: 2, n: 3, k: 0, a: a, b: b, beta: 0.5, c: &c)
        XCTAssertEqual(c, [0.5, 1, 1.5, 2, 2.5, 3])
    }

    // MARK: - RNG

    func testRNGIsReproducible() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let sa = (0..<1000).map { _ in a.next() }
        let sb = (0..<1000).map { _ in b.next() }
        let sc = (0..<1000).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
        XCTAssertEqual(Set(sa).count, 1000)
        var d = RNG(seed: 42), e = RNG(seed: 42)
        XCTAssertEqual((0..<100).map { _ in d.normal() }, (0..<100).map { _ in e.normal() })
    }

    /// Known answers: xoshiro256** (Vigna's reference `next()`) from the state SplitMix64 gives
    /// for seed 0 (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, …), computed outside Swift.
    func testRNGKnownAnswers() {
        var rng = RNG(seed: 0)
        XCTAssertEqual((0..<4).map { _ in rng.next() },
                       [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0,
                        0x6AA5_94F1_262D_2D2C])
    }

    func testUniformRanges() {
        var rng = RNG(seed: 7)
        var sum = 0.0
        let count = 100_000
        for _ in 0..<count {
            let u = rng.uniform()
            XCTAssert(u >= 0 && u < 1)
            sum += Double(u)
            let v = rng.uniform(bound: 0.3)
            XCTAssert(v >= -0.3 && v < 0.3)
        }
        XCTAssertEqual(sum / Double(count), 0.5, accuracy: 0.01)
    }

    func testNormalMoments() {
        var rng = RNG(seed: 2024)
        let count = 100_000
        var sum = 0.0, sumSquares = 0.0
        for _ in 0..<count {
            let v = Double(rng.normal())
            XCTAssert(v.isFinite)
            sum += v
            sumSquares += v * v
        }
        let mean = sum / Double(count)
        let std = (sumSquares / Double(count) - mean * mean).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(std, 1, accuracy: 0.02)
    }

    // MARK: - Tensor

    func testTensorViews() {
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let second = t.sample(1)
        XCTAssertEqual(second.shape, [3])
        XCTAssertEqual(second.array, [4, 5, 6])
        second.fill(9)
        XCTAssertEqual(t.array, [1, 2, 3, 9, 9, 9])
        let flat = t.reshaped([6])
        flat.data[0] = -1
        XCTAssertEqual(t.data[0], -1)
        let copy = Tensor(shape: [3, 2])
        copy.copy(from: t)
        XCTAssertEqual(copy.array, [-1, 2, 3, 9, 9, 9])
        copy.zero()
        XCTAssertEqual(copy.array, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Tensor(shape: [0, 4]).count, 0)
        XCTAssertEqual(Tensor(shape: [0], values: []).array, [])
    }
}
