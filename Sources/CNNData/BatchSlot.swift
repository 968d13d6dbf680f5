/// The memory for one prepared batch: images, labels and an augmentation scratch sample,
/// allocated once per loader and reused for every batch.
///
/// `@unchecked Sendable` because a prefetching loader's worker thread writes a slot while the
/// training thread reads the other one. This is safe because a slot is only ever touched by one
/// thread at a time: the loader hands it from the training thread to the worker and back with
/// semaphore signal/wait pairs (see `PrefetchChannel`), which order every access to its memory.
final class BatchSlot: @unchecked Sendable {
    let images: UnsafeMutablePointer<Float>
    let labels: UnsafeMutablePointer<Int32>
    let scratch: UnsafeMutablePointer<Float>

    init(batchSize: Int, sampleCount: Int, labelsPerSample: Int) {
        images = .allocate(capacity: max(batchSize * sampleCount, 1))
        images.initialize(repeating: 0, count: max(batchSize * sampleCount, 1))
        labels = .allocate(capacity: max(batchSize * labelsPerSample, 1))
        labels.initialize(repeating: 0, count: max(batchSize * labelsPerSample, 1))
        scratch = .allocate(capacity: max(sampleCount, 1))
        scratch.initialize(repeating: 0, count: max(sampleCount, 1))
    }

    deinit {
        images.deallocate()
        labels.deallocate()
        scratch.deallocate()
    }
}
