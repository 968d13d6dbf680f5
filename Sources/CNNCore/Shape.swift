/// The dimensions of a tensor, outermost first. Per-sample shapes (what layers declare) leave the
/// batch out: images are `[C, H, W]`, sequences `[T, F]`, vectors `[F]`; batched tensors put `N` first.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    public var rank: Int { dims.count }
    public var count: Int { dims.reduce(1, *) }
    /// The element count, or nil when it overflows `Int` or a dimension is negative (for
    /// validating shapes computed from user input before anything is allocated).
    public var checkedCount: Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }
    public subscript(i: Int) -> Int { dims[i] }

    /// `[N] + self`: the shape of a batch of `n` samples.
    public func batched(_ n: Int) -> Shape { Shape([n] + dims) }
    /// The per-sample shape of a batched shape.
    public var sample: Shape { Shape(Array(dims.dropFirst())) }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
