import CNNCore

/// Elementwise sum of its inputs, `y = Σᵢ xᵢ` (the residual join of He et al. 2016, "Deep
/// Residual Learning for Image Recognition").
///
/// `xᵢ: [N] + shape (≥ 2 inputs, identical shapes) → y: [N] + shape`. No parameters; each
/// input receives the output gradient unchanged.
public final class Add: Layer {
    public struct Config: Decodable, Sendable {
        /// Asks for the (empty) object so that any key is reported as unknown.
        public init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}
    }

    public let name: String
    public var type: String { "add" }
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

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let y = output.data, count = output.count
        y.update(from: inputs[0].data, count: count)
        for x in inputs.dropFirst() {
            let xd = x.data
            for i in 0..<count { y[i] += xd[i] }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let g = dy.data, count = dy.count
        for case let dx? in inputGradients {
            let d = dx.data
            for i in 0..<count { d[i] += g[i] }
        }
    }

    public static let registration = LayerRegistration(
        type: "add", summary: "elementwise sum of ≥ 2 inputs of identical shape (residual join)",
        example: LayerExample([:], inputs: [[2, 3, 5], [2, 3, 5], [2, 3, 5]])
    ) { context in try Add(context.decode(Config.self), context: &context) }
}
