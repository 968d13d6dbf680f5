import CNNCore

/// Global average pooling (Lin et al. 2014, "Network In Network"; PyTorch
/// `AdaptiveAvgPool2d(1)` followed by `flatten`): `y[n, c] = (1/(H·W)) Σ_{h, w} x[n, c, h, w]`.
///
/// `x: [N, C, H, W] → y: [N, C]`, or `[N, C, 1, 1]` with `keep_dims`. No parameters.
public final class GlobalAvgPool: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var keepDims: Bool?

        private enum CodingKeys: String, CodingKey { case keepDims = "keep_dims" }

        public init(keepDims: Bool? = nil) { self.keepDims = keepDims }
    }

    public let name: String
    public static let typeName = "global_avgpool"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public var outputShape: Shape { planes.outputShape }
    public var window: WindowGeometry? { planes.window }
    let planes: GlobalPlanes

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        planes = try GlobalPlanes(keepDims: c.keepDims, context: context)
        name = context.name
        inputShapes = context.inputShapes
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], area = planes.area, scale = 1 / Float(area)
        for p in 0..<planes.count(batch: x.shape[0]) {
            let xp = x.data + p * area
            var s: Float = 0
            for i in 0..<area { s += xp[i] }
            output.data[p] = s * scale
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let area = planes.area, scale = 1 / Float(area)
        for p in 0..<planes.count(batch: dy.shape[0]) {
            let v = dy.data[p] * scale, dxp = dx.data + p * area
            for i in 0..<area { dxp[i] += v }
        }
    }

    public static let registration = LayerRegistration(
        GlobalAvgPool.self, summary: "global average pooling, [C, H, W] → [C] (or [C, 1, 1])",
        keys: [
            ConfigKey("keep_dims", "bool", default: "false", "Outputs [C, 1, 1] instead of [C]."),
        ],
        example: LayerExample(["keep_dims": true], inputs: [[3, 5, 4]])
    )
}
