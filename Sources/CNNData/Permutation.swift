import CNNCore

/// Fisher–Yates shuffles (Knuth, TAOCP vol. 2, Algorithm 3.4.2 P) driven by `RNG`, written out
/// here rather than through `Array.shuffle(using:)` so the order depends only on the seed, not
/// on how a Swift release happens to implement the standard library's shuffle.
enum Permutation {
    /// A uniformly random permutation of `0..<count`.
    static func shuffled(count: Int, rng: inout RNG) -> [Int] {
        var p = Array(0..<count)
        p.withUnsafeMutableBufferPointer { shuffle($0.baseAddress!, count: count, rng: &rng) }
        return p
    }

    /// `0..<count` cut by a shuffle into its first `first` and the rest, each in increasing order:
    /// a held-out part chosen at random, both parts keeping the source's order.
    static func split(count: Int, first: Int, rng: inout RNG) -> (first: [Int], rest: [Int]) {
        let p = shuffled(count: count, rng: &rng)
        return (p[..<first].sorted(), p[first...].sorted())
    }

    /// Shuffles `values[0..<count]` in place: for i = n−1 … 1, swap values[i] with values[j],
    /// j uniform in 0…i.
    static func shuffle(_ values: UnsafeMutablePointer<Int>, count: Int, rng: inout RNG) {
        var i = count - 1
        while i > 0 {
            let j = below(i + 1, rng: &rng)
            let t = values[i]
            values[i] = values[j]
            values[j] = t
            i -= 1
        }
    }

    /// An integer uniform in `0..<bound` (`bound` ≥ 1): the high word of `bound × next()`
    /// (Lemire 2019, "Fast random integer generation in an interval", without the rejection
    /// step: the bias is below bound / 2⁶⁴, under 10⁻¹⁰ even for a billion samples).
    static func below(_ bound: Int, rng: inout RNG) -> Int {
        Int(UInt64(bound).multipliedFullWidth(by: rng.next()).high)
    }
}
