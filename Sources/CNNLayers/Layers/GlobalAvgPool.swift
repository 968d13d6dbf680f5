import CNNCore

/// Global average pooling (Lin et al. 2014, "Network In Network"; PyTorch
/// `AdaptiveAvgPool2d(1)` followed by `flatten`): `y[n, c] = (1/(H·W)) Σ_{h, w} x[n, c, h, w]`.
///
/// `x: [N, C, H, W] → y: [N, C]`, or `[N, C, 1, 1]` with `keep_dims`; or a sequence over time,
/// `x: [N, T, F] → y: [N, F]` (`[N, 1, F]`), the mean over each sample's real steps after a padded
/// embedding (0 for a sample of padding only). No parameters.
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
        planes = try GlobalPlanes(keepDims: c.keepDims, context: &context)
        name = context.name
        inputShapes = context.inputShapes
    }

    public var details: String? { planes.details }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        if planes.steps != nil { return forwardOverTime(inputs[0], output, context) }
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
        if planes.steps != nil { return backwardOverTime(dy, dx, context) }
        let area = planes.area, scale = 1 / Float(area)
        for p in 0..<planes.count(batch: dy.shape[0]) {
            let v = dy.data[p] * scale, dxp = dx.data + p * area
            for i in 0..<area { dxp[i] += v }
        }
    }

    private func forwardOverTime(_ x: Tensor, _ y: Tensor, _ context: ExecutionContext) {
        let f = planes.channels
        planes.forEachSequence(batch: x.shape[0], context) { xo, yo, real in
            let yp = y.data + yo
            yp.update(repeating: 0, count: f)
            for t in 0..<real {
                let xt = x.data + xo + t * f
                for j in 0..<f { yp[j] += xt[j] }
            }
            let scale = real > 0 ? 1 / Float(real) : 0
            for j in 0..<f { yp[j] *= scale }
        }
    }

    private func backwardOverTime(_ dy: Tensor, _ dx: Tensor, _ context: ExecutionContext) {
        let f = planes.channels
        planes.forEachSequence(batch: dy.shape[0], context) { xo, yo, real in
            guard real > 0 else { return }
            let g = dy.data + yo, scale = 1 / Float(real)
            for t in 0..<real {
                let dxt = dx.data + xo + t * f
                for j in 0..<f { dxt[j] += g[j] * scale }
            }
        }
    }

    public static let registration = LayerRegistration(
        GlobalAvgPool.self, summary: "global average pooling, [C, H, W] → [C] (or [C, 1, 1]); [T, F] → [F] over time",
        keys: [
            ConfigKey("keep_dims", "bool", default: "false", "Outputs [C, 1, 1] instead of [C] ([1, F] instead of [F])."),
        ],
        example: LayerExample(["keep_dims": true], inputs: [[3, 5, 4]])
    )
}
