import CNNCore

/// Fills a `BatchSlot` with batch `k` of one epoch: gathers the samples at
/// `order[k·B ..< min((k+1)·B, N)]`, normalizes each, then augments it with its own generator
/// `RNG(seed: mixSeed(seed, epoch, datasetIndex, 0xA0))`, and last rearranges it into the
/// dataset's sequence view, if it has one. An image dataset's sample is decoded (or taken from
/// its cache) and run through its pipeline instead, whose random steps draw from the same
/// per-sample generator; a file that fails to decode is an error naming it.
///
/// Every batch is a pure function of (dataset, order, seed, epoch, k), which is what makes
/// prefetching invisible (either thread may run it) and resuming from a checkpoint exact. Only
/// Sendable values are held, so the prefetch thread can own a copy.
struct BatchAssembler: Sendable {
    let dataset: LabeledDataset
    let order: [Int]
    let batchSize: Int
    let seed: UInt64
    let epoch: Int
    let normalization: Normalization?
    let augmentation: Augmentation?
    /// This process's share of every batch, in a data-parallel run.
    let shard: BatchShard?

    /// The number of samples in batch `k` over all processes.
    func globalCount(of k: Int) -> Int { min(batchSize, dataset.count - k * batchSize) }

    /// The positions in `order` of this process's samples of batch `k`.
    func range(of k: Int) -> Range<Int> {
        let first = k * batchSize, n = globalCount(of: k)
        guard let shard else { return first..<first + n }
        let share = shard.share(of: n)
        return first + share.lowerBound..<first + share.upperBound
    }

    /// The number of samples in this process's share of batch `k`.
    func count(of k: Int) -> Int { range(of: k).count }

    func fill(_ slot: BatchSlot, batch k: Int) throws {
        let shape = dataset.sampleShape, per = shape.count, perLabels = dataset.labelsPerSample
        let first = range(of: k).lowerBound
        if let images = dataset.images {
            for j in 0..<count(of: k) {
                let index = order[first + j]
                slot.labels[j] = dataset.labels[index]
                var generator = rng(index)
                try images.write(index, rng: &generator, into: slot.images + j * per)
            }
            return
        }
        let view = dataset.sequenceView.flatMap { $0.isIdentity(for: shape) ? nil : $0 }
        dataset.values.withUnsafeBufferPointer { values in
            dataset.labels.withUnsafeBufferPointer { labels in
                order.withUnsafeBufferPointer { order in
                    for j in 0..<count(of: k) {
                        let index = order[first + j]
                        let x = slot.images + j * per
                        x.update(from: values.baseAddress! + index * per, count: per)
                        (slot.labels + j * perLabels).update(
                            from: labels.baseAddress! + index * perLabels, count: perLabels)
                        normalization?.apply(x, shape: shape)
                        if let augmentation {
                            var rng = rng(index)
                            // A segmentation mask moves with its image.
                            augmentation.apply(x, shape: shape, rng: &rng, scratch: slot.scratch,
                                               mask: dataset.mask == nil ? nil : slot.labels + j * perLabels,
                                               maskFill: dataset.mask?.ignored ?? 0)
                        }
                        if let view {
                            view.apply(x, shape: shape, into: slot.scratch)
                            x.update(from: slot.scratch, count: per)
                        }
                    }
                }
            }
        }
    }

    /// Sample `index`'s generator for this epoch.
    private func rng(_ index: Int) -> RNG {
        RNG(seed: mixSeed(seed, UInt64(bitPattern: Int64(epoch)), UInt64(index), 0xA0))
    }
}
