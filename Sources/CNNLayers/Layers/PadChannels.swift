import CNNCore

/// Zero-pads the channel axis equally on both sides: `y[n, p + c, …] = x[n, c, …]` with
/// `p = (channels − C)/2`, zeros elsewhere. This is the parameter-free "option A" shortcut of
/// He et al. 2016 ("Deep Residual Learning for Image Recognition", §4.2) as written in the
/// common CIFAR ResNet code (`F.pad(x, (0, 0, 0, 0, p, p))`); combine it with a 1x1 stride-2
/// average pool for the spatial subsampling.
///
/// `x: [N, C, H, W] → y: [N, channels, H, W]`. No parameters.
public final class PadChannels: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var channels: Int

        public init(channels: Int) { self.channels = channels }
    }

    public let name: String
    public static let typeName = "pad_channels"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// Floats per input sample, and zeros written before it in each output sample.
    let inSize: Int, lead: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput(rank: 3, what: "[channels, height, width]")
        let extra = c.channels - s[0]
        guard extra >= 0 else {
            throw context.error("must be ≥ the input channels (\(s[0])), got \(c.channels)",
                                key: "channels")
        }
        guard extra % 2 == 0 else {
            throw context.error("\(c.channels) − \(s[0]) input channels = \(extra) is odd; the "
                                + "padding must split equally between both sides", key: "channels")
        }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = [c.channels, s[1], s[2]]
        inSize = s.count
        lead = extra / 2 * s[1] * s[2]
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, outSize = outputShape.count
        output.zero()
        for b in 0..<output.shape[0] {
            (output.data + b * outSize + lead).update(from: x + b * inSize, count: inSize)
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let outSize = outputShape.count
        for b in 0..<dy.shape[0] {
            let g = dy.data + b * outSize + lead, d = dx.data + b * inSize
            for i in 0..<inSize { d[i] += g[i] }
        }
    }

    public static let registration = LayerRegistration(
        PadChannels.self,
        summary: "zero-pads channels equally on both sides (ResNet option-A shortcut)",
        keys: [
            ConfigKey("channels", "int",
                      "Output channels, ≥ the input's C with channels − C even; (channels − C)/2 zero "
                      + "maps go before the input's and as many after."),
        ],
        example: LayerExample(["channels": 6], inputs: [[2, 3, 5]])
    )
}
