import CNNCore

/// The statistics of the norms that standardise each sample on its own, one contiguous row of
/// `D` values at a time (`LayerNorm`: a row is the normalized trailing dimensions; `GroupNorm`: a
/// row is one group of channels × all positions):
///
///     μ = (1/D)·Σ_j x_j,    σ² = (1/D)·Σ_j (x_j − μ)²  (biased),    rstd = 1/√(σ² + ε)
///
/// Summed in Double and in two passes (mean first, then squared deviations) so a row with a
/// large mean keeps its digits. μ and rstd are kept per row for backward, as llm.c does, in the
/// layer's saved state: every row's μ, then every row's rstd.
struct RowStatistics {
    let eps: Float

    /// The recorded μ and rstd of each row.
    struct Recorded {
        let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    }

    /// ε from the config's `eps` (default 1e-5, as in PyTorch), which must be positive.
    init(eps: Float?, context: LayerBuildContext) throws {
        let eps = eps ?? 1e-5
        guard eps > 0 else { throw context.error("must be > 0, got \(eps)", key: "eps") }
        self.eps = eps
    }

    /// The saved state of `rows` rows.
    static func savedFloats(rows: Int) -> Int { 2 * rows }

    /// The statistics of `rows` rows in a layer's saved state.
    static func recorded(rows: Int, in state: SavedState) -> Recorded {
        let p = state.floats(count: savedFloats(rows: rows))
        return Recorded(mean: p, rstd: p + rows)
    }

    /// Measures row `r`, the `count` values at `x` (`stride` apart: a position's channels for
    /// `LayerNorm2D`): records its μ and rstd and returns them.
    func measure(row r: Int, _ x: UnsafePointer<Float>, count: Int, stride: Int = 1, into recorded: Recorded)
        -> (mean: Float, rstd: Float) {
        let n = Double(count)
        var sum = 0.0
        for j in 0..<count { sum += Double(x[j * stride]) }
        let mu = sum / n
        var sq = 0.0
        for j in 0..<count {
            let d = Double(x[j * stride]) - mu
            sq += d * d
        }
        let m = Float(mu), s = Float(1 / (sq / n + Double(eps)).squareRoot())
        recorded.mean[r] = m
        recorded.rstd[r] = s
        return (m, s)
    }
}
