import CNNCore

/// Multiplication by a fixed number, for residual branches scaled before the sum
/// (Inception-ResNet's 0.17, 0.10 and 0.20: Szegedy et al. 2017, "Inception-v4,
/// Inception-ResNet and the Impact of Residual Connections on Learning", §3.3). No parameters;
/// `dx = factor · dy`.
public final class ConstantScale: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var factor: Float

        public init(factor: Float) { self.factor = factor }
    }

    public let name: String
    public static let typeName = "scale"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let factor: Float

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard c.factor.isFinite else { throw context.error("must be a finite number, got \(c.factor)", key: "factor") }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        factor = c.factor
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, f = factor
        for i in 0..<output.count { y[i] = f * x[i] }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0]?.data else { return }
        let d = dy.data, f = factor
        for i in 0..<dy.count { dx[i] += f * d[i] }
    }

    public static let registration = LayerRegistration(
        ConstantScale.self, summary: "multiplication by a fixed factor (Inception-ResNet's residual scaling)",
        keys: [ConfigKey("factor", "number", "The factor, e.g. 0.17 (Inception-ResNet-A).")],
        example: LayerExample(["factor": 0.17], inputs: [[3, 4]])
    )
}
