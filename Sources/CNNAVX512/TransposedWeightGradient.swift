/// `C = Bᵀ · A` (or `C += Bᵀ · A`), `C[n, m] = Σ_k B[k, n] · A[k, m]`, for the weight gradients of
/// a recurrent layer over all steps: `dW_ihᵀ = Xᵀ · dG` and `dW_hhᵀ = H₋₁ᵀ · dGh`, with the rows of
/// dG (`K = T·N` rows of `M = G·H` gate gradients) as A, unpacked. Measured on this machine, one
/// thread, LSTM-128's half of the gates (M = 256, K = 1,792): OpenBLAS sgemm `dGᵀ · X` (N = 28)
/// 232 µs at 110 GFLOP/s, this kernel 116 µs; `dGᵀ · H₋₁` (N = 128) 551 against 513 µs.
///
/// C comes out transposed because then A's rows are the contiguous operand: the register block is
/// 6 rows of C × 64 columns (24 accumulators of 16 lanes), and per k 4 loads of A and 6 broadcasts
/// of B feed 24 FMAs. K runs in blocks of 256 rows, so a block of A stays in L2 while every row
/// block of C passes over it (all K at once: 137 against 116 µs). M must be a multiple of 64.
public enum TransposedWeightGradient {
    static let rows = 6, depth = 256
    /// Columns of C per register block; M comes in panels of this many.
    public static let width = 64

    /// Whether M columns suit the kernel.
    public static func supports(m: Int) -> Bool { m % width == 0 }

    /// `C[n, m] (+)= Σ_{k < K} B[k, n] · A[k, m]`; rows of A, B and C `lda`, `ldb` and `ldc` floats
    /// apart.
    public static func multiply(k: Int, a: UnsafePointer<Float>, lda: Int, m: Int, b: UnsafePointer<Float>, ldb: Int,
                                n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        precondition(supports(m: m), "TransposedWeightGradient: M = \(m) is not a multiple of \(width)")
        for k0 in stride(from: 0, to: k, by: depth) {
            add(k: min(depth, k - k0), a: a + k0 * lda, lda: lda, m: m, b: b + k0 * ldb, ldb: ldb, n: n, c: c, ldc: ldc,
                fromZero: k0 == 0 && !accumulate)
        }
    }

    private static func add(k: Int, a: UnsafePointer<Float>, lda: Int, m: Int, b: UnsafePointer<Float>, ldb: Int,
                            n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, fromZero: Bool) {
        for m0 in stride(from: 0, to: m, by: width) {
            for n0 in stride(from: 0, to: n, by: rows) {
                let (a, b, c) = (a + m0, b + n0, c + n0 * ldc + m0)
                // Each count of rows its own copy of the block, so that a last block of fewer rows
                // (N = 28: 4; N = 128: 2) computes no more: repeating the last row cost 7% and 3%.
                switch n - n0 {
                case 1: block(1, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                case 2: block(2, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                case 3: block(3, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                case 4: block(4, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                case 5: block(5, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                default: block(6, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, fromZero: fromZero)
                }
            }
        }
    }

    /// `count` (≤ 6) rows × 64 columns of C from `count` columns of B; with `count` a constant,
    /// the rows past it fold away.
    @inline(__always)
    private static func block(_ count: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, fromZero: Bool) {
        let c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc
        @inline(__always) func start(_ row: Int, _ p: UnsafeMutablePointer<Float>, _ offset: Int) -> Vector {
            fromZero || row >= count ? Vector() : load(p, offset)
        }
        var s00 = start(0, c0, 0), s01 = start(0, c0, 16), s02 = start(0, c0, 32), s03 = start(0, c0, 48)
        var s10 = start(1, c1, 0), s11 = start(1, c1, 16), s12 = start(1, c1, 32), s13 = start(1, c1, 48)
        var s20 = start(2, c2, 0), s21 = start(2, c2, 16), s22 = start(2, c2, 32), s23 = start(2, c2, 48)
        var s30 = start(3, c3, 0), s31 = start(3, c3, 16), s32 = start(3, c3, 32), s33 = start(3, c3, 48)
        var s40 = start(4, c4, 0), s41 = start(4, c4, 16), s42 = start(4, c4, 32), s43 = start(4, c4, 48)
        var s50 = start(5, c5, 0), s51 = start(5, c5, 16), s52 = start(5, c5, 32), s53 = start(5, c5, 48)
        var ap = UnsafeRawPointer(a), bp = b
        for _ in 0..<k {
            let a0 = load(ap), a1 = load(ap, 16), a2 = load(ap, 32), a3 = load(ap, 48)
            var s = Vector(repeating: bp[0])
            s00.addProduct(s, a0); s01.addProduct(s, a1); s02.addProduct(s, a2); s03.addProduct(s, a3)
            if count > 1 {
                s = Vector(repeating: bp[1])
                s10.addProduct(s, a0); s11.addProduct(s, a1); s12.addProduct(s, a2); s13.addProduct(s, a3)
            }
            if count > 2 {
                s = Vector(repeating: bp[2])
                s20.addProduct(s, a0); s21.addProduct(s, a1); s22.addProduct(s, a2); s23.addProduct(s, a3)
            }
            if count > 3 {
                s = Vector(repeating: bp[3])
                s30.addProduct(s, a0); s31.addProduct(s, a1); s32.addProduct(s, a2); s33.addProduct(s, a3)
            }
            if count > 4 {
                s = Vector(repeating: bp[4])
                s40.addProduct(s, a0); s41.addProduct(s, a1); s42.addProduct(s, a2); s43.addProduct(s, a3)
            }
            if count > 5 {
                s = Vector(repeating: bp[5])
                s50.addProduct(s, a0); s51.addProduct(s, a1); s52.addProduct(s, a2); s53.addProduct(s, a3)
            }
            ap += 4 * lda
            bp += ldb
        }
        store(s00, c0); store(s01, c0 + 16); store(s02, c0 + 32); store(s03, c0 + 48)
        if count > 1 { store(s10, c1); store(s11, c1 + 16); store(s12, c1 + 32); store(s13, c1 + 48) }
        if count > 2 { store(s20, c2); store(s21, c2 + 16); store(s22, c2 + 32); store(s23, c2 + 48) }
        if count > 3 { store(s30, c3); store(s31, c3 + 16); store(s32, c3 + 32); store(s33, c3 + 48) }
        if count > 4 { store(s40, c4); store(s41, c4 + 16); store(s42, c4 + 32); store(s43, c4 + 48) }
        if count > 5 { store(s50, c5); store(s51, c5 + 16); store(s52, c5 + 32); store(s53, c5 + 48) }
    }
}
