/// Everything besides weights and optimizer moments that shapes the next step, saved in the
/// checkpoint's metadata so a resumed run continues exactly as an uninterrupted one: the
/// position (epoch, batch, step), the partial epoch's running sums, the schedule's state and
/// the early-stopping and best-checkpoint bookkeeping.
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// The next batch to run: `batch` of `epoch` (0-based); `batch == 0` at an epoch boundary.
    public var epoch = 0
    public var batch = 0
    /// Optimizer steps and forward/backward passes done so far.
    public var step = 0
    /// Running sums of the epoch in progress.
    public var lossSum = 0.0
    public var correct = 0
    /// Labels predicted (samples × time steps) and samples seen in the epoch so far.
    public var predictions = 0
    public var seen = 0
    public var seconds = 0.0
    public var schedule: [String: Double] = [:]
    public var bestMetric: Double?
    public var badEpochs = 0
    public var seed: UInt64 = 0

    public init() {}
}
