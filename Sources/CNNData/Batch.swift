import CNNCore

/// One mini-batch handed out by `BatchLoader.forEachBatch`. Both views point into the loader's
/// reusable buffers, so they are valid only during the call that receives the batch; copy what
/// must outlive it.
public struct Batch {
    /// The batch's position in the epoch, 0-based.
    public let index: Int
    /// `[count] + sampleShape`, normalized and augmented.
    public let images: Tensor
    /// The class of each sample, in the same order as `images`.
    public let labels: UnsafeBufferPointer<Int32>

    public var count: Int { labels.count }
}
