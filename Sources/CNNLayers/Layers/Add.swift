import CNNCore

/// Elementwise sum of its inputs, `y = Σᵢ xᵢ` (the residual join of He et al. 2016, "Deep
/// Residual Learning for Image Recognition").
///
/// `xᵢ: [N] + shape (≥ 2 inputs, identical shapes) → y: [N] + shape`. No parameters; each
/// input receives the output gradient unchanged.
public final class Add: ConfiguredLayer, ActivationFusing {
    public struct Config: Decodable, Sendable {
        /// Asks for the (empty) object so that any key is reported as unknown.
        public init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}

        public init() {}
    }

    public let name: String
    public static let typeName = "add"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let shapes = context.inputShapes
        guard shapes.count >= 2 else {
            throw context.error("takes at least 2 inputs, got \(shapes.count)")
        }
        if let k = shapes.indices.first(where: { shapes[$0] != shapes[0] }) {
            throw context.error("inputs must have identical shapes: input 0 is \(shapes[0]) but "
                                + "input \(k) is \(shapes[k])")
        }
        name = context.name
        inputShapes = shapes
        outputShape = shapes[0]
    }

    /// Elementwise, so the elements are split between the worker pool's parts.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        context.pool.forEachRange(output.count, Forward(inputs: inputs, y: output.data, epilogue: nil))
    }

    public func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext) {
        context.pool.forEachRange(output.count, Forward(inputs: inputs, y: output.data, epilogue: epilogue))
    }

    /// `y = x₀ + x₁ (+ x₂ …)` in one pass over a range, then the epilogue on it.
    struct Forward: RangeWork {
        let inputs: [Tensor], y: UnsafeMutablePointer<Float>, epilogue: Activation?
        func run(_ r: Range<Int>) {
            let (a, b) = (inputs[0].data, inputs[1].data)
            for i in r { y[i] = a[i] + b[i] }
            for x in inputs.dropFirst(2) {
                let xd = x.data
                for i in r { y[i] += xd[i] }
            }
            epilogue?.apply(y + r.lowerBound, r.count)
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        context.pool.forEachRange(dy.count, Backward(dy: dy.data, dx: inputGradients))
    }

    /// Every input receives the output gradient: `dxₖ += dy`.
    struct Backward: RangeWork {
        let dy: UnsafeMutablePointer<Float>, dx: [Tensor?]
        func run(_ r: Range<Int>) {
            for case let d? in dx {
                let dd = d.data
                for i in r { dd[i] += dy[i] }
            }
        }
    }

    public static let registration = LayerRegistration(
        Add.self, summary: "elementwise sum of ≥ 2 inputs of identical shape (residual join)",
        keys: [],
        example: LayerExample([:], inputs: [[2, 3, 5], [2, 3, 5], [2, 3, 5]])
    )
}
