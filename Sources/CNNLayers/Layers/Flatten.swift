import CNNCore

/// Flattens each sample to a vector: `y[n, i] = x[n, …]` in row-major order (PyTorch
/// `nn.Flatten()`, `start_dim = 1`).
///
/// `x: [N, C, H, W] (or any per-sample shape) → y: [N, C·H·W]`. No parameters. The data is
/// already contiguous, so forward is one copy and backward one accumulation.
public final class Flatten: Layer {
    public struct Config: Decodable, Sendable {
        /// Asks for the (empty) object so that any key is reported as unknown.
        public init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}
    }

    public let name: String
    public var type: String { "flatten" }
    public let inputShapes: [Shape]
    public let outputShape: Shape

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        name = context.name
        inputShapes = context.inputShapes
        outputShape = [s.count]
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        output.data.update(from: inputs[0].data, count: output.count)
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        for i in 0..<dy.count { dx.data[i] += dy.data[i] }
    }

    public static let registration = LayerRegistration(
        type: "flatten", summary: "flattens each sample to a vector",
        keys: [],
        example: LayerExample([:], inputs: [[2, 3, 5]])
    ) { context in try Flatten(context.decode(Config.self), context: &context) }
}
