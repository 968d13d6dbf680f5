/// `C = Bᵀ · A` (or `C += Bᵀ · A`), `C[n, m] = Σ_k B[k, n] · A[k, m]`, for the weight gradients of
/// a recurrent layer over all steps: `dW_ihᵀ = Xᵀ · dG` and `dW_hhᵀ = H₋₁ᵀ · dGh`, with the rows of
/// dG (`K = T·N` rows of `M = G·H` gate gradients) as A, unpacked. It beats OpenBLAS sgemm on
/// both products, most on `dGᵀ · X`, whose N (28 features for LSTM-128) is short.
///
/// C comes out transposed because then A's rows are the contiguous operand: the register block is
/// 6 rows of C × 64 columns (24 accumulators of 16 lanes), and per k 4 loads of A and 6 broadcasts
/// of B feed 24 FMAs. K runs in blocks of 256 rows, so a block of A stays in L2 while every row
/// block of C passes over it (all K at once was slower). M must be a multiple of 64.
public enum TransposedWeightGradient {
    static let rows = 6, depth = 256
    /// Columns of C per register block; M comes in panels of this many.
    public static let width = 64

    /// Whether M columns suit the kernel.
    public static func supports(m: Int) -> Bool { m % width == 0 }

    /// `C[n, m] (+)= Σ_{k < K} B[k, n] · A[k, m]`; rows of A, B and C `lda`, `ldb` and `ldc` floats
    /// apart. A block past C's last row repeats that row.
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
        let last = n - 1
        @inline(__always) func start(_ p: UnsafeMutablePointer<Float>, _ offset: Int) -> Vector {
            fromZero ? Vector() : load(p, offset)
        }
        for m0 in stride(from: 0, to: m, by: width) {
            for n0 in stride(from: 0, to: n, by: rows) {
                let j0 = n0, j1 = min(n0 + 1, last), j2 = min(n0 + 2, last)
                let j3 = min(n0 + 3, last), j4 = min(n0 + 4, last), j5 = min(n0 + 5, last)
                let c0 = c + j0 * ldc + m0, c1 = c + j1 * ldc + m0, c2 = c + j2 * ldc + m0
                let c3 = c + j3 * ldc + m0, c4 = c + j4 * ldc + m0, c5 = c + j5 * ldc + m0
                var s00 = start(c0, 0), s01 = start(c0, 16), s02 = start(c0, 32), s03 = start(c0, 48)
                var s10 = start(c1, 0), s11 = start(c1, 16), s12 = start(c1, 32), s13 = start(c1, 48)
                var s20 = start(c2, 0), s21 = start(c2, 16), s22 = start(c2, 32), s23 = start(c2, 48)
                var s30 = start(c3, 0), s31 = start(c3, 16), s32 = start(c3, 32), s33 = start(c3, 48)
                var s40 = start(c4, 0), s41 = start(c4, 16), s42 = start(c4, 32), s43 = start(c4, 48)
                var s50 = start(c5, 0), s51 = start(c5, 16), s52 = start(c5, 32), s53 = start(c5, 48)
                var ap = UnsafeRawPointer(a + m0), bp = b
                for _ in 0..<k {
                    let a0 = load(ap), a1 = load(ap, 16), a2 = load(ap, 32), a3 = load(ap, 48)
                    var s = Vector(repeating: bp[j0])
                    s00.addProduct(s, a0); s01.addProduct(s, a1); s02.addProduct(s, a2); s03.addProduct(s, a3)
                    s = Vector(repeating: bp[j1])
                    s10.addProduct(s, a0); s11.addProduct(s, a1); s12.addProduct(s, a2); s13.addProduct(s, a3)
                    s = Vector(repeating: bp[j2])
                    s20.addProduct(s, a0); s21.addProduct(s, a1); s22.addProduct(s, a2); s23.addProduct(s, a3)
                    s = Vector(repeating: bp[j3])
                    s30.addProduct(s, a0); s31.addProduct(s, a1); s32.addProduct(s, a2); s33.addProduct(s, a3)
                    s = Vector(repeating: bp[j4])
                    s40.addProduct(s, a0); s41.addProduct(s, a1); s42.addProduct(s, a2); s43.addProduct(s, a3)
                    s = Vector(repeating: bp[j5])
                    s50.addProduct(s, a0); s51.addProduct(s, a1); s52.addProduct(s, a2); s53.addProduct(s, a3)
                    ap += 4 * lda
                    bp += ldb
                }
                // A row past the last is a copy of it, with the same sums: it rewrites them.
                store(s50, c5); store(s51, c5 + 16); store(s52, c5 + 32); store(s53, c5 + 48)
                store(s40, c4); store(s41, c4 + 16); store(s42, c4 + 32); store(s43, c4 + 48)
                store(s30, c3); store(s31, c3 + 16); store(s32, c3 + 32); store(s33, c3 + 48)
                store(s20, c2); store(s21, c2 + 16); store(s22, c2 + 32); store(s23, c2 + 48)
                store(s10, c1); store(s11, c1 + 16); store(s12, c1 + 32); store(s13, c1 + 48)
                store(s00, c0); store(s01, c0 + 16); store(s02, c0 + 32); store(s03, c0 + 48)
            }
        }
    }
}
