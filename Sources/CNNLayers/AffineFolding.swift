import CNNCore

/// A layer that at inference is one affine map per channel of channel-first data,
/// `y[c, …] = scale[c]·x[c, …] + shift[c]` (batch norm with its running statistics: Ioffe &
/// Szegedy 2015, section 3.1), so that the layer before it can apply the map as it writes its
/// output (`AffineAbsorbing`) and this layer need not run at all.
public protocol InferenceAffine: Layer {
    /// The map's channel count, or nil where this layer is no such map (e.g. batch norm over
    /// the features of a sequence).
    var affineChannels: Int? { get }
    /// Writes the map's `scale` and `shift`, `affineChannels` of each.
    func inferenceAffine(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>)
}

/// A layer that can apply a per-channel affine map, then an activation, to its output while it
/// writes it: a convolution absorbing the batch norm that follows it at inference, with the
/// activation after that (the fold of Jacob et al. 2018, section 3.2, applied in the output pass
/// rather than to the weights, so the stored weights stay the trained ones).
public protocol AffineAbsorbing: ActivationFusing {
    /// Channels of the output (dimension 0 of a sample) that the map's entries apply to.
    var outputChannels: Int { get }
    /// `forward`, then `y[c, …] = scale[c]·y[c, …] + shift[c]`, then `epilogue`, per image.
    func forward(inputs: [Tensor], output: Tensor, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                 epilogue: Activation?, context: inout ExecutionContext)
}
