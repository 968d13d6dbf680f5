import CNNCore

/// A layer that can apply the activation reading its output to that output while it is still in
/// cache: convolution + bias + ReLU in one pass, as the fused epilogues of cuDNN and oneDNN do.
/// The executor then runs the activation in place: it shares this layer's output and gradient
/// buffers, its forward is skipped and its backward rewrites the gradient in place
/// (`Activation.backwardInPlace`). That is sound because a fusing layer's backward never reads
/// its own output, which the activation has overwritten.
public protocol ActivationFusing: Layer {
    /// `forward`, then `epilogue.apply` on the output.
    func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext)
}
