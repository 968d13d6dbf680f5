/// How a convolution reads pixels outside the image. For a row `a b c d` padded by 2:
///
///     zeros      0 0 | a b c d | 0 0
///     reflect    c b | a b c d | c b      mirror, edge pixel not repeated (PyTorch "reflect")
///     symmetric  b a | a b c d | d c      mirror, edge pixel repeated (MATLAB/NumPy "symmetric")
///     replicate  a a | a b c d | d d      edge pixel repeated
///     circular   c d | a b c d | a b      wrap around
public enum PaddingMode: String, Sendable, CaseIterable {
    case zeros, reflect, symmetric, replicate, circular

    /// The source index for position `i` of a row of length `n` (padded positions are `i < 0` or
    /// `i >= n`), or -1 when the value is zero.
    public func sourceIndex(_ i: Int, length n: Int) -> Int {
        if i >= 0 && i < n { return i }
        switch self {
        case .zeros:
            return -1
        case .replicate:
            return i < 0 ? 0 : n - 1
        case .circular:
            return ((i % n) + n) % n
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            let j = ((i % period) + period) % period
            return j < n ? j : period - j
        case .symmetric:
            let period = 2 * n
            let j = ((i % period) + period) % period
            return j < n ? j : period - 1 - j
        }
    }
}
