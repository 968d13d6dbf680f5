import COpenBLAS

/// The one door to OpenBLAS: every matrix product in cnnctl goes through `gemm`.
///
/// Row-major `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` M×K and `op(B)` K×N.
/// `lda`/`ldb`/`ldc` default to the packed row lengths.
@inline(__always)
public func gemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    if m == 0 || n == 0 { return }
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// The number of threads OpenBLAS uses for the products that follow.
public enum BLASThreads {
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var current: Int { Int(openblas_get_num_threads()) }
    /// The kernel family OpenBLAS picked for this CPU (for example "Haswell" or "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
