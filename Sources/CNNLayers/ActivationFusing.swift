import CNNCore

/// A layer that can apply the activation reading its output to that output while it is still in
/// cache: convolution + bias + ReLU in one pass, as the fused epilogues of cuDNN and oneDNN do.
/// The executor then runs the activation in place: it shares this layer's output and gradient
/// buffers, and its forward and backward are skipped; this layer's backward takes the gradient of
/// the activation's output (`backward(…, through:)`). That is sound because a fusing layer's
/// backward never reads its own output, which the activation has overwritten.
public protocol ActivationFusing: Layer {
    /// `forward`, then `epilogue.apply` on the output.
    func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext)

    /// `backward` from the gradient of `activation`'s output (`outputGradient`; `output` holds the
    /// activation's output). By default the gradient is rewritten in place by the activation's
    /// derivative first (`Activation.backwardInPlace`); a layer may apply it as it reads instead.
    func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor, inputGradients: [Tensor?],
                  through activation: Activation, context: inout ExecutionContext)
}

extension ActivationFusing {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor, inputGradients: [Tensor?],
                         through activation: Activation, context: inout ExecutionContext) {
        activation.backwardInPlace(output: output, gradient: outputGradient, pool: context.pool)
        backward(inputs: inputs, output: output, outputGradient: outputGradient, inputGradients: inputGradients,
                 context: &context)
    }
}
