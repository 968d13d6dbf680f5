import CNNCore

/// Global average pooling (Lin et al. 2014, "Network In Network"; PyTorch
/// `AdaptiveAvgPool2d(1)` followed by `flatten`): `y[n, c] = (1/(H·W)) Σ_{h, w} x[n, c, h, w]`.
///
/// `x: [N, C, H, W] → y: [N, C]`, or `[N, C, 1, 1]` with `keep_dims`. No parameters.
public final class GlobalAvgPool: Layer {
    public struct Config: Decodable, Sendable {
        var keep_dims: Bool?
    }

    public let name: String
    public var type: String { "global_avgpool" }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// One window over the whole image, so receptive-field reports see the global view.
    public let window: WindowGeometry?
    let channels: Int, area: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        name = context.name
        inputShapes = context.inputShapes
        channels = x[0]
        area = x[1] * x[2]
        outputShape = c.keep_dims ?? false ? [x[0], 1, 1] : [x[0]]
        window = WindowGeometry(channels: x[0], height: x[1], width: x[2], kernelH: x[1], kernelW: x[2])
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], scale = 1 / Float(area)
        for p in 0..<(x.shape[0] * channels) {
            let xp = x.data + p * area
            var s: Float = 0
            for i in 0..<area { s += xp[i] }
            output.data[p] = s * scale
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let scale = 1 / Float(area)
        for p in 0..<(dy.shape[0] * channels) {
            let v = dy.data[p] * scale, dxp = dx.data + p * area
            for i in 0..<area { dxp[i] += v }
        }
    }

    public static let registration = LayerRegistration(
        type: "global_avgpool", summary: "global average pooling, [C, H, W] → [C] (or [C, 1, 1])",
        keys: [
            ConfigKey("keep_dims", "bool", default: "false", "Outputs [C, 1, 1] instead of [C]."),
        ],
        example: LayerExample(["keep_dims": true], inputs: [[3, 5, 4]])
    ) { context in try GlobalAvgPool(context.decode(Config.self), context: &context) }
}
