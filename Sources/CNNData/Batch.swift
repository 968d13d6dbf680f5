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
}
