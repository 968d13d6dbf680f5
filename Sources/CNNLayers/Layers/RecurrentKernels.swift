import CNNCore

/// The elementwise loops of the recurrent layers: the cells' activations and gate stages, the
/// bias gradients' column sums and the batch-major ↔ time-major copies.
enum RecurrentKernels {
    @inline(__always)
    static func tanh(_ v: Float) -> Float { FastMath.tanh(v) }

    @inline(__always)
    static func sigmoid(_ v: Float) -> Float { FastMath.sigmoid(v) }

    // Stages of the gate passes. A cell runs them one row (sample) at a time, so the row stays in
    // L1 across stages; each stage touches few pointers and vectorizes, where one loop touching
    // all of the row's pointers does not (too many possible overlaps for the vectorizer).

    /// `p[k] = σ(p[k] + a[k] + b[k])`.
    @inline(__always)
    static func sigmoid(_ p: UnsafeMutablePointer<Float>, plus a: UnsafePointer<Float>,
                        _ b: UnsafePointer<Float>, count: Int) {
        for k in 0..<count { p[k] = sigmoid(p[k] + a[k] + b[k]) }
    }

    /// `p[k] = tanh(p[k] + a[k] + b[k])`.
    @inline(__always)
    static func tanh(_ p: UnsafeMutablePointer<Float>, plus a: UnsafePointer<Float>,
                     _ b: UnsafePointer<Float>, count: Int) {
        for k in 0..<count { p[k] = tanh(p[k] + a[k] + b[k]) }
    }

    /// `p[k] = max(0, p[k] + a[k] + b[k])`.
    @inline(__always)
    static func relu(_ p: UnsafeMutablePointer<Float>, plus a: UnsafePointer<Float>,
                     _ b: UnsafePointer<Float>, count: Int) {
        for k in 0..<count { p[k] = max(p[k] + a[k] + b[k], 0) }
    }

    /// `y[k] = a[k] + w[k] · (b[k] − a[k])`: the GRU's state update in either convention.
    @inline(__always)
    static func blend(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                      _ b: UnsafePointer<Float>, weight w: UnsafePointer<Float>, count: Int) {
        for k in 0..<count { y[k] = a[k] + w[k] * (b[k] - a[k]) }
    }

    /// `sums[j] += Σ_r a[r, j]` for a packed `[rows, cols]` matrix.
    static func addColumnSums(_ a: UnsafePointer<Float>, rows: Int, cols: Int,
                              into sums: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = a + r * cols
            for j in 0..<cols { sums[j] += row[j] }
        }
    }

    /// `[outer, inner, width] → [inner, outer, width]` (batch-major ↔ time-major), assigning or adding.
    static func transpose(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, outer: Int,
                          inner: Int, width: Int, add: Bool = false) {
        for a in 0..<outer {
            for b in 0..<inner {
                let s = src + (a * inner + b) * width, d = dst + (b * outer + a) * width
                if add {
                    for j in 0..<width { d[j] += s[j] }
                } else {
                    d.update(from: s, count: width)
                }
            }
        }
    }
}
