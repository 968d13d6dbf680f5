import CNNCore

/// Synchronized batch norm (PyTorch's `SyncBatchNorm`): in a data-parallel run with
/// `train.sync_batchnorm`, the executor hands every layer a `StatisticsReducer`, and batch norm
/// takes its training statistics over all processes' shares of the batch, so that training equals
/// one process on the whole batch. Forward: each process's moments per channel, then
/// `[n, n·μ, M2 + n·μ²]` summed over the processes, from which μ = Σnμ / N and
/// σ² = Σ(M2 + nμ²) / N − μ² (in Double); the running statistics update with N values. Backward:
/// Σdy and Σdy·x̂ summed over the processes before dx (`BatchNorm.backward`).
extension BatchNorm {
    func synchronizeStatistics(x: UnsafeMutablePointer<Float>, rows: Int, statistics: Statistics,
                               reducer: any StatisticsReducer, pool: WorkerPool) {
        pool.forEachRange(channels, itemSize: rows * inner, Moments(layer: self, x: x, rows: rows))
        // Packed in place in the layer's three accumulators per channel.
        let n = Double(rows * inner), c = channels, packed = sums
        for k in 0..<c {
            let mu = sums[k], m2 = sums[c + k]
            packed[k] = n
            packed[c + k] = n * mu
            packed[2 * c + k] = m2 + n * mu * mu
        }
        reducer.sum(packed, count: 3 * c)
        for k in 0..<c {
            let total = packed[k], mean = packed[c + k] / total
            let variance = max(0, packed[2 * c + k] / total - mean * mean)
            (statistics.mean[k], statistics.rstd[k]) = Self.finish(
                mean: mean, variance: variance, count: total, eps: eps, momentum: momentum,
                runningMean: &runningMean.data[k], runningVar: &runningVar.data[k])
        }
        normalizedCount = packed[0]
    }

    struct Moments: RangeWork {
        let layer: BatchNorm, x: UnsafeMutablePointer<Float>, rows: Int
        func run(_ range: Range<Int>) { layer.localMoments(x, rows: rows, channels: range) }
    }
}

/// Sums per-channel statistics over the processes of a data-parallel run (the executor's
/// `statisticsReducer`, set for `train.sync_batchnorm`); the layers stay free of MPI.
public protocol StatisticsReducer: AnyObject {
    /// Replaces `count` values with their sums over the processes, on every process.
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
}
