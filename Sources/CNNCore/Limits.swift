/// The range every count that enters from outside (a command-line option, a config key, a
/// checkpoint's progress record) must lie in. Each is checked where it enters, with an error that
/// states the range, so that no absurd value reaches size arithmetic, a precondition or an
/// allocation later. The bounds are far beyond any real use; they exist to keep products of them
/// (samples × batches × steps, bytes per batch) well inside `Int`.
public enum Limits {
    /// Samples per batch (training, evaluation, benchmarks, summaries).
    public static let batch = 1...65_536
    /// Training epochs.
    public static let epochs = 1...1_000_000
    /// Worker and BLAS threads.
    public static let threads = 1...1_024
    /// Random seeds (stored as UInt64 in checkpoints).
    public static let seed = 0...Int(Int64.max)
    /// Timed steps and rounds of a benchmark, and the characters `generate` writes.
    public static let repetitions = 1...1_000_000

    /// `nil` when `value` lies in `range`, else what to say about it: `must be in 1...65536, got 0`.
    public static func violation(_ value: Int, _ range: ClosedRange<Int>) -> String? {
        range.contains(value) ? nil : "must be in \(range.lowerBound)...\(range.upperBound), got \(value)"
    }
}
