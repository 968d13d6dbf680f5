import CNNCore
import CNNLayers

/// A layer that forwards everything to another one; tests subclass it and override `backward`
/// to build deliberately broken layers (the gradient checks must catch them).
open class DelegatingLayer: Layer {
    public let inner: any Layer
    public init(_ inner: any Layer) { self.inner = inner }

    public var name: String { inner.name }
    public var type: String { inner.type }
    public var inputShapes: [Shape] { inner.inputShapes }
    public var outputShape: Shape { inner.outputShape }
    public var parameterSpecs: [ParameterSpec] { inner.parameterSpecs }
    public var macs: Int { inner.macs }
    public var window: WindowGeometry? { inner.window }
    public var details: String? { inner.details }
    public func workspaceSize(batch: Int) -> Int { inner.workspaceSize(batch: batch) }
    public func savedStateFloats(batch: Int) -> Int { inner.savedStateFloats(batch: batch) }
    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        inner.bind(parameters: parameters, gradients: gradients)
    }
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        inner.forward(inputs: inputs, output: output, context: &context)
    }
    open func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                       inputGradients: [Tensor?], context: inout ExecutionContext) {
        inner.backward(inputs: inputs, output: output, outputGradient: outputGradient,
                       inputGradients: inputGradients, context: &context)
    }
}
