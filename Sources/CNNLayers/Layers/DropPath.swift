import CNNCore

/// Stochastic depth, "drop path" (Huang et al. 2016, "Deep Networks with Stochastic Depth";
/// torchvision's `StochasticDepth(mode="row")`, timm's `DropPath`): at the end of a residual
/// branch, in training each sample's whole branch output is kept with probability 1 − p and
/// scaled by 1/(1 − p), else zeroed, so the block is the identity for that sample; in inference
/// `y = x`. Networks use a rate that grows linearly with depth (ConvNeXt, EfficientNet): give
/// `rate`, or leave it out and let the model's `"drop_path"` schedule set it by position.
///
/// `x: [N] + shape → y: [N] + shape`. No parameters. The per-sample scale (`0` or `1/(1 − p)`)
/// is its saved state.
public final class DropPath: ConfiguredLayer, DepthScheduled {
    public struct Config: Decodable, Sendable {
        var rate: Float?
    }

    public let name: String
    public static let typeName = "drop_path"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// The drop probability; set by the model's schedule when the config gives none.
    public private(set) var rate: Float
    public let followsSchedule: Bool
    /// Whether the last forward dropped paths (training with p > 0), so backward matches it.
    private var masked = false

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        if let r = c.rate, !(0..<1).contains(r) { throw context.error("must be in [0, 1), got \(r)", key: "rate") }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        rate = c.rate ?? 0
        followsSchedule = c.rate == nil
    }

    public func schedule(rate: Float) { self.rate = rate }

    public var details: String? { "p = \(rate)" }

    public func savedStateFloats(batch: Int) -> Int { batch }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data
        masked = context.isTraining && rate > 0
        guard masked else {
            y.update(from: x, count: output.count)
            return
        }
        let n = output.shape[0], size = output.count / max(n, 1)
        let m = context.saved.floats(count: n), keep = 1 - rate
        for b in 0..<n {
            m[b] = context.rng.uniform() < keep ? 1 / keep : 0
            for i in b * size..<(b + 1) * size { y[i] = x[i] * m[b] }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0]?.data else { return }
        let g = dy.data, n = dy.shape[0], size = dy.count / max(n, 1)
        let m = masked ? context.saved.floats(count: n) : nil
        for b in 0..<n {
            let s = m?[b] ?? 1
            for i in b * size..<(b + 1) * size { dx[i] += g[i] * s }
        }
    }

    public static let registration = LayerRegistration(
        DropPath.self, summary: "stochastic depth: drops a residual branch per sample (identity in inference)",
        keys: [
            ConfigKey("rate", "number", default: "the model's schedule",
                      "Probability p in [0, 1) of dropping the branch for a sample in training; kept "
                      + "samples are scaled by 1/(1 − p). Without it, the model's \"drop_path\" schedule "
                      + "sets it from the layer's position among the drop_path layers."),
        ],
        example: LayerExample(["rate": 0.5], inputs: [[3, 2, 2]])
    )
}

/// A layer whose rate a model-level schedule sets by its position in the network.
public protocol DepthScheduled: AnyObject {
    /// Whether the config left the rate to the schedule.
    var followsSchedule: Bool { get }
    func schedule(rate: Float)
}
