/// `C = α·op(A)·op(B) + β·C` with the rows of C split between `pool`'s parts, each part's
/// product on one BLAS thread: for callers with no parallelism of their own (the recurrent
/// layers' products over all time steps). OpenBLAS's own threads stay asleep, so they never spin
/// next to the pool's threads on the same cores.
public func gemmAcrossParts(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, pool: WorkerPool
) {
    let work = RowSplitGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                            a: a, lda: lda ?? (transA ? m : k), b: b, ldb: ldb ?? (transB ? k : n),
                            beta: beta, c: c, ldc: ldc ?? n,
                            parts: min(pool.parts, max(1, m / RowSplitGEMM.minimumRows)))
    if work.parts > 1 { pool.run(work) } else { work.run(part: 0) }
}

struct RowSplitGEMM: PartitionedWork {
    /// Thinner slices of C run below the single-thread speed of the whole product.
    static let minimumRows = 16

    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float
    let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
    let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parts: Int

    /// Rows `r` of C come from rows `r` of op(A): rows of A, or columns when A is transposed.
    func run(part: Int) {
        guard part < parts else { return }
        let r = WorkerPool.share(m, part: part, of: parts)
        gemm(transA: transA, transB: transB, m: r.count, n: n, k: k, alpha: alpha,
             a: transA ? a + r.lowerBound : a + r.lowerBound * lda, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c + r.lowerBound * ldc, ldc: ldc)
    }
}
