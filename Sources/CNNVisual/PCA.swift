import CNNCore
import COpenBLAS

/// Principal component analysis of `n` row vectors of `d` values: the rows centred on their
/// mean, the covariance `C = XᵀX / (n − 1)` (one `gemm`), and its eigendecomposition by LAPACK's
/// `ssyevd` (OpenBLAS's LAPACK) rather than a hand-written solver. Components are the
/// eigenvectors of the largest eigenvalues, each signed so that its largest-magnitude entry is
/// positive (eigenvectors are defined up to sign; this fixes one, as scikit-learn's `svd_flip`
/// fixes one per component).
public struct PCA: Sendable {
    public let mean: [Float]
    /// `[k][d]`: the principal directions, largest variance first.
    public let components: [[Float]]
    /// The variance along each component (the eigenvalues), and its share of the total.
    public let variances: [Float], explainedRatios: [Float]

    /// Fits `k` components (1…d) to `rows` (`n × d`, n ≥ 2). Fails only if LAPACK does.
    public init(rows: [Float], count n: Int, dimension d: Int, components k: Int) throws {
        precondition(n >= 2 && d >= 1 && rows.count == n * d && (1...d).contains(k), "PCA of \(n) × \(d) for \(k)")
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        for j in 0..<d { mean[j] /= Float(n) }
        var centred = rows
        for i in 0..<n { for j in 0..<d { centred[i * d + j] -= mean[j] } }
        // C is symmetric, so its row-major and column-major layouts are the same matrix for LAPACK.
        var c = [Float](repeating: 0, count: d * d)
        gemm(transA: true, m: d, n: d, k: n, alpha: 1 / Float(n - 1), a: centred, b: centred, c: &c)
        var values = [Float](repeating: 0, count: d)
        try Self.eigen(&c, &values, d)
        // ssyevd: ascending eigenvalues; column-major eigenvectors, so vector i is c[i·d ..< (i+1)·d].
        let total = values.reduce(0) { $0 + max($1, 0) }
        var components: [[Float]] = [], variances: [Float] = []
        for i in (d - k..<d).reversed() {
            var v = Array(c[i * d..<(i + 1) * d])
            if let big = v.max(by: { abs($0) < abs($1) }), big < 0 { v = v.map { -$0 } }
            components.append(v)
            variances.append(max(values[i], 0))
        }
        self.mean = mean
        self.components = components
        self.variances = variances
        explainedRatios = variances.map { total > 0 ? $0 / total : 0 }
    }

    /// `rows` (n × d) in component coordinates, `n × k`: the centred rows times the components.
    public func project(_ rows: [Float], count n: Int) -> [Float] {
        let d = mean.count, k = components.count
        var centred = rows, out = [Float](repeating: 0, count: n * k)
        for i in 0..<n { for j in 0..<d { centred[i * d + j] -= mean[j] } }
        let basis = components.flatMap { $0 }
        gemm(transB: true, m: n, n: k, k: d, a: centred, b: basis, c: &out)
        return out
    }

    /// `ssyevd("V", "U")` on the column-major `d × d` matrix `a`: eigenvalues into `w`, vectors into `a`.
    static func eigen(_ a: inout [Float], _ w: inout [Float], _ d: Int) throws {
        var n = Int32(d), lda = Int32(d), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1, workSize: Float = 0, iworkSize: Int32 = 0
        let v = Int8(UInt8(ascii: "V")), u = Int8(UInt8(ascii: "U"))
        var jobz = v, uplo = u
        ssyevd_(&jobz, &uplo, &n, &a, &lda, &w, &workSize, &lwork, &iworkSize, &liwork, &info, 1, 1)
        guard info == 0 else { throw PCAError(info: info) }
        lwork = Int32(workSize.rounded(.up))
        liwork = iworkSize
        var work = [Float](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        ssyevd_(&jobz, &uplo, &n, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw PCAError(info: info) }
    }
}

public struct PCAError: Error, CustomStringConvertible {
    public let info: Int32
    public var description: String {
        "LAPACK ssyevd failed (info \(info)): " + (info < 0 ? "argument \(-info) was invalid"
            : "the eigenvalue algorithm did not converge")
    }
}
