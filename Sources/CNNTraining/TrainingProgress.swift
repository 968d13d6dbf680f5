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

extension TrainingProgress {
    /// Why this progress cannot belong to a run of `epochs` epochs of `batchesPerEpoch` batches of
    /// up to `batchSize` samples of `labelsPerSample` labels, or nil when it can: the position must
    /// lie inside the run (the step is the batches done before it), the epoch's counts must be
    /// ones its batches can give, and every number must be finite. A damaged or hand-edited state
    /// file then stops the resume with the reason, instead of resuming into nothing or into
    /// arithmetic on absurd values.
    public func inconsistency(epochs: Int, batchesPerEpoch: Int, batchSize: Int,
                              labelsPerSample: Int = 1) -> String? {
        guard (0...epochs).contains(epoch) else {
            return "epoch \(epoch) is outside the run's 0...\(epochs)"
        }
        guard epoch < epochs else {
            return "the run has finished its \(epochs) epochs; give --epochs with more to train on"
        }
        guard (0...batchesPerEpoch).contains(batch) else {
            return "batch \(batch) is outside the epoch's 0...\(batchesPerEpoch)"
        }
        let expected = epoch * batchesPerEpoch + batch
        guard step == expected else {
            return "step \(step) is not the \(expected) batches done before epoch \(epoch + 1), batch \(batch + 1) "
                + "at \(batchesPerEpoch) batches per epoch (were the data or the batch size changed?)"
        }
        // Comparisons, not ranges: a range of two damaged bounds would itself trap.
        guard seen >= 0, seen <= batch * batchSize, correct >= 0, correct <= predictions,
              predictions <= seen * labelsPerSample else {
            return "the epoch's counts (seen \(seen), correct \(correct), predictions \(predictions)) cannot come "
                + "from \(batch) batches of up to \(batchSize) samples"
        }
        guard lossSum.isFinite, lossSum >= 0, seconds.isFinite, seconds >= 0, (0...epoch).contains(badEpochs),
              bestMetric?.isFinite ?? true, schedule.values.allSatisfy(\.isFinite) else {
            return "it holds a negative or non-finite number (loss sum \(lossSum), seconds \(seconds), "
                + "bad epochs \(badEpochs), best \(bestMetric.map { "\($0)" } ?? "none"))"
        }
        return nil
    }
}
