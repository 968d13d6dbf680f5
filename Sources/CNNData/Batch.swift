import CNNCore

/// One mini-batch handed out by `BatchLoader.forEachBatch`. Both views point into the loader's
/// reusable buffers, so they are valid only during the call that receives the batch; copy what
/// must outlive it.
public struct Batch {
    /// The batch's position in the epoch, 0-based.
    public let index: Int
    /// `[count] + dataset.inputShape`, normalized, augmented and (for a sequence view)
    /// rearranged into `[T, F]` steps.
    public let images: Tensor
    /// `count × labelsPerSample` labels in the order of `images`, sample-major: sample `j`'s
    /// labels (its class, or its `T` per-step targets) are `labels[j·L ..< (j+1)·L]`.
    public let labels: UnsafeBufferPointer<Int32>
    /// The number of samples.
    public let count: Int
    /// The dataset's `labelsPerSample`.
    public let labelsPerSample: Int
    /// The samples of the batch over all processes of a data-parallel run (`count` otherwise).
    public let globalCount: Int
}

/// Process `rank` of `size`'s share of every batch in a data-parallel run: of a batch of `n`
/// samples, positions `[n·rank/size, n·(rank+1)/size)` (shares differ by at most one sample, and a
/// batch smaller than the group leaves some processes none). All processes draw the same order,
/// so the sequence of whole batches is that of one process, whatever the number of processes
/// (PyTorch's `DistributedSampler` shares out a permutation the same way, by stride).
public struct BatchShard: Sendable, Equatable {
    public let rank: Int, size: Int

    public init(rank: Int, size: Int) {
        precondition(size >= 1 && (0..<size).contains(rank), "rank \(rank) of \(size)")
        self.rank = rank
        self.size = size
    }

    public func share(of n: Int) -> Range<Int> { WorkerPool.share(n, part: rank, of: size) }
}
