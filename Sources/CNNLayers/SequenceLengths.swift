import CNNCore

/// A layer that knows how many of each sample's time steps are real: an `embedding` with a
/// `padding_index`, whose inputs are texts padded at the end to the model's `T` steps. Its forward
/// writes one length per sample, `1 +` the position of the last token that is not padding (0 for
/// a text of padding only), as its saved state, `[N]` Int32.
///
/// The layers over time that must not read padding (the recurrent layers, and the global pools
/// over `[T, F]`) find the nearest such layer upstream of their input with their own `T`
/// (`LayerBuildContext.sequenceLengths(steps:)`) and read those lengths through a state edge, as
/// Keras propagates an `Embedding(mask_zero=True)` mask to the layers after it.
public protocol SequenceLengthSource: Layer {
    /// The time steps of every sample, padding included, when the layer knows padding; else nil.
    var paddedSteps: Int? { get }
}

/// Where a padding-aware layer reads each sample's real steps: the state edge to its source (the
/// layer's only one), whose name `details` and errors show.
public struct SequenceLengths {
    public let source: String

    /// Sample b's real steps in the batch of `n`.
    public func read(_ context: ExecutionContext, batch n: Int) -> UnsafePointer<Int32> {
        UnsafePointer(context.stateInputs[0].indices(count: n))
    }
}

extension LayerBuildContext {
    /// The lengths of the nearest `SequenceLengthSource` upstream of this layer's inputs whose
    /// steps are `steps`, its saved state then read through a state edge; nil where there is none.
    public mutating func sequenceLengths(steps: Int) -> SequenceLengths? {
        guard let (index, layer) = upstream().first(where: { ($0.layer as? any SequenceLengthSource)?.paddedSteps == steps })
        else { return nil }
        addStateInput(index)
        return SequenceLengths(source: layer.name)
    }
}
