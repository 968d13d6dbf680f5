import CNNCore

extension RecurrentLayer {
    /// tanh as Eigen's rational approximation (`ptanh_float`: odd degree-13 over even degree-6
    /// polynomial, input clamped to ±7.9988), within 4e-7 of the exact value and never beyond
    /// ±1. Unlike libm's `tanhf` it is no call and no branch, so the gate loops vectorize (the
    /// calls took a third of an LSTM's time).
    @inline(__always)
    static func tanh(_ v: Float) -> Float {
        let x = min(max(v, -7.998_811_7), 7.998_811_7), x2 = x * x
        var p: Float = -2.760_768_5e-16
        p = p * x2 + 2.000_187_9e-13
        p = p * x2 - 8.604_671_5e-11
        p = p * x2 + 5.122_297_1e-8
        p = p * x2 + 1.485_722_4e-5
        p = p * x2 + 6.372_619_3e-4
        p = p * x2 + 4.893_524_6e-3
        var q: Float = 1.198_258_4e-6
        q = q * x2 + 1.185_347_1e-4
        q = q * x2 + 2.268_434_6e-3
        q = q * x2 + 4.893_525_2e-3
        return x * p / q
    }

    /// `σ(v) = (1 + tanh(v/2))/2`, within 2.5e-7 of the exact value and never below 0.
    @inline(__always)
    static func sigmoid(_ v: Float) -> Float { 0.5 + 0.5 * tanh(0.5 * v) }

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
