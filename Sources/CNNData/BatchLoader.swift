import CNNCore
import Foundation

/// Cuts a dataset into mini-batches for one epoch at a time, like PyTorch's `DataLoader` with
/// `drop_last=False`: `⌈N / B⌉` batches, the last one partial.
///
/// The sample order is the identity, or with `shuffle` a Fisher–Yates permutation drawn from
/// `RNG(seed: mixSeed(seed, epoch))`; sample `i`'s augmentation draws from
/// `RNG(seed: mixSeed(seed, epoch, i, 0xA0))`. So every batch is a pure function of
/// (seed, epoch, batch index): a run resumed at batch `k` of an epoch sees exactly the batches
/// an uninterrupted run would have.
///
/// With `prefetch`, `workers` background threads prepare the next `workers` batches (gather,
/// normalize, augment; or decode and transform images) while the caller's body works on the
/// current one, in `workers + 1` buffers allocated once; the batches are identical to those
/// made without it, whatever the number of workers.
///
/// Batches hold `[n] + dataset.inputShape` samples (a dataset's sequence view is applied after
/// normalization and augmentation) and `n × dataset.labelsPerSample` labels, sample-major.
public final class BatchLoader {
    public let dataset: LabeledDataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let normalization: Normalization?
    public let augmentation: Augmentation?
    public let prefetch: Bool
    /// Threads preparing batches ahead (with prefetch).
    public let workers: Int
    /// This process's share of each batch, in a data-parallel run (`BatchShard`).
    public let shard: BatchShard?
    private let slots: [BatchSlot]
    /// Per slot, the image views for a full batch and for the partial last batch.
    private let fullViews: [Tensor]
    private let partialViews: [Tensor?]

    /// `batchSize` ≥ 1; `normalization` has one entry per channel of the samples;
    /// `augmentation` needs `[C, H, W]` samples (the config loader checks all three).
    public init(dataset: LabeledDataset, batchSize: Int, shuffle: Bool, seed: UInt64,
                normalization: Normalization?, augmentation: Augmentation?,
                prefetch: Bool = true, workers: Int = 1, shard: BatchShard? = nil) {
        let shape = dataset.sampleShape, inputShape = dataset.inputShape
        precondition(batchSize >= 1, "batch size \(batchSize) must be at least 1")
        precondition(workers >= 1, "\(workers) loader workers")
        precondition(normalization.map { n in
            let c = Normalization.channels(of: shape)
            return n.mean.count == c && n.std.count == c
        } ?? true, "normalization does not have one mean and std per channel of \(shape)")
        precondition(augmentation == nil || shape.rank == 3,
                     "augmentation needs [C, H, W] samples, got \(shape)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.normalization = normalization
        self.augmentation = augmentation
        self.prefetch = prefetch
        self.workers = workers
        self.shard = shard
        // This process's samples of a full batch and of the partial last one (its share of them
        // in a data-parallel run): the same two sizes every epoch.
        let full = shard?.share(of: batchSize).count ?? batchSize
        let remainder = dataset.count % batchSize, partial = shard?.share(of: remainder).count ?? remainder
        slots = (0..<(prefetch ? workers + 1 : 1)).map { _ in
            BatchSlot(batchSize: full, sampleCount: shape.count, labelsPerSample: dataset.labelsPerSample)
        }
        fullViews = slots.map {
            Tensor(shape: inputShape.batched(full), viewing: $0.images, owner: $0)
        }
        partialViews = slots.map { slot in
            remainder == 0 ? nil
                : Tensor(shape: inputShape.batched(partial), viewing: slot.images, owner: slot)
        }
    }

    /// `⌈count / batchSize⌉`.
    public var batchesPerEpoch: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The dataset indices in the order `epoch` visits them.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var rng = RNG(seed: mixSeed(seed, UInt64(bitPattern: Int64(epoch))))
        return Permutation.shuffled(count: dataset.count, rng: &rng)
    }

    /// Calls `body` with batches `startingAt ..< batchesPerEpoch` of `epoch`, in order, until
    /// it returns false. The batch's buffers are reused: they are valid only during the call.
    /// With prefetch, the worker threads have stopped by the time this returns or throws. An
    /// image that cannot be decoded is thrown when its batch is due.
    public func forEachBatch(epoch: Int, startingAt start: Int = 0,
                             _ body: (Batch) throws -> Bool) throws {
        precondition(start >= 0, "starting batch \(start) is negative")
        let end = batchesPerEpoch
        guard start < end else { return }
        let assembler = BatchAssembler(
            dataset: dataset, order: order(epoch: epoch), batchSize: batchSize, seed: seed,
            epoch: epoch, normalization: normalization, augmentation: augmentation, shard: shard)
        guard prefetch else {
            for k in start..<end {
                try assembler.fill(slots[0], batch: k)
                if try !body(batch(k, slot: 0, assembler)) { return }
            }
            return
        }

        let ring = BatchRing(depth: slots.count, start: start, end: end)
        ring.start(workers: workers) { [slots] slot, k in try assembler.fill(slots[slot], batch: k) }
        // However the loop ends (done, stopped by the body, or a throw), the workers finish the
        // batch each is filling and exit before this returns, so the slots are free for the
        // next call.
        defer { ring.stop() }
        for k in start..<end {
            let slot = try ring.take(k)
            if try !body(batch(k, slot: slot, assembler)) { return }
            ring.release(k)
        }
    }

    private func batch(_ k: Int, slot: Int, _ assembler: BatchAssembler) -> Batch {
        let n = assembler.count(of: k), perLabels = dataset.labelsPerSample
        let images = assembler.globalCount(of: k) == batchSize ? fullViews[slot] : partialViews[slot]!
        return Batch(index: k, images: images,
                     labels: UnsafeBufferPointer(start: slots[slot].labels, count: n * perLabels),
                     count: n, labelsPerSample: perLabels, globalCount: assembler.globalCount(of: k))
    }
}
