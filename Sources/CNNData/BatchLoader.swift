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
/// With `prefetch`, a background thread prepares batch k+1 (gather, normalize, augment) while
/// the caller's body works on batch k, in two buffers allocated once; the batches are identical
/// to those made without it. Nothing is allocated per batch.
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
    private let slots: [BatchSlot]
    /// Per slot, the image views for a full batch and for the partial last batch.
    private let fullViews: [Tensor]
    private let partialViews: [Tensor?]

    /// `batchSize` ≥ 1; `normalization` has one entry per channel of the samples;
    /// `augmentation` needs `[C, H, W]` samples (the config loader checks all three).
    public init(dataset: LabeledDataset, batchSize: Int, shuffle: Bool, seed: UInt64,
                normalization: Normalization?, augmentation: Augmentation?,
                prefetch: Bool = true) {
        let shape = dataset.sampleShape, inputShape = dataset.inputShape
        precondition(batchSize >= 1, "batch size \(batchSize) must be at least 1")
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
        slots = (0..<(prefetch ? 2 : 1)).map { _ in
            BatchSlot(batchSize: batchSize, sampleCount: shape.count,
                      labelsPerSample: dataset.labelsPerSample)
        }
        let remainder = dataset.count % batchSize
        fullViews = slots.map {
            Tensor(shape: inputShape.batched(batchSize), viewing: $0.images, owner: $0)
        }
        partialViews = slots.map { slot in
            remainder == 0 ? nil
                : Tensor(shape: inputShape.batched(remainder), viewing: slot.images, owner: slot)
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
    /// With prefetch, the worker thread has stopped by the time this returns or throws.
    public func forEachBatch(epoch: Int, startingAt start: Int = 0,
                             _ body: (Batch) throws -> Bool) rethrows {
        precondition(start >= 0, "starting batch \(start) is negative")
        let end = batchesPerEpoch
        guard start < end else { return }
        let assembler = BatchAssembler(
            dataset: dataset, order: order(epoch: epoch), batchSize: batchSize, seed: seed,
            epoch: epoch, normalization: normalization, augmentation: augmentation)
        guard prefetch else {
            for k in start..<end {
                assembler.fill(slots[0], batch: k)
                if try !body(batch(k, slot: 0, assembler)) { return }
            }
            return
        }

        let channel = PrefetchChannel()
        let thread = Thread { [slots] in
            while true {
                channel.requested.wait()
                guard let k = channel.request else { break }
                assembler.fill(slots[k % 2], batch: k)
                channel.ready.signal()
            }
            channel.finished.signal()
        }
        thread.name = "cnnctl batch prefetch"
        thread.start()
        channel.request = start
        channel.requested.signal()
        var outstanding = true
        // However the loop ends (done, stopped by the body, or a throw), let the worker finish
        // what it is doing, tell it to stop and wait for it, so it never outlives this call
        // and the slots are free for the next one.
        defer {
            if outstanding { channel.ready.wait() }
            channel.request = nil
            channel.requested.signal()
            channel.finished.wait()
        }
        for k in start..<end {
            channel.ready.wait()
            outstanding = false
            // Slot (k+1) % 2 held batch k−1, whose body call has returned.
            if k + 1 < end {
                channel.request = k + 1
                channel.requested.signal()
                outstanding = true
            }
            if try !body(batch(k, slot: k % 2, assembler)) { return }
        }
    }

    private func batch(_ k: Int, slot: Int, _ assembler: BatchAssembler) -> Batch {
        let n = assembler.count(of: k), perLabels = dataset.labelsPerSample
        return Batch(index: k, images: n == batchSize ? fullViews[slot] : partialViews[slot]!,
                     labels: UnsafeBufferPointer(start: slots[slot].labels, count: n * perLabels),
                     count: n, labelsPerSample: perLabels)
    }
}
