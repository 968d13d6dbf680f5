import CNNCore

/// Inverted dropout (Srivastava et al. 2014; PyTorch `nn.Dropout`): in training
/// `y = x · m / (1 − p)` with `m ~ Bernoulli(1 − p)` per element, drawn from the context's RNG;
/// in inference `y = x`. Scaling at training time keeps the expected activation unchanged, so
/// inference needs no rescaling.
///
/// `x: [N] + shape → y: [N] + shape`. No parameters. The scaled mask (`0` or `1/(1 − p)`) is
/// its saved state.
public final class Dropout: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var rate: Float
    }

    public let name: String
    public static let typeName = "dropout"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let rate: Float
    /// Whether the last forward applied a mask (training with p > 0), so backward matches it.
    private var masked = false

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard c.rate >= 0, c.rate < 1 else {
            throw context.error("must be in [0, 1), got \(c.rate)", key: "rate")
        }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        rate = c.rate
    }

    /// The mask of the last forward in training.
    public func savedStateFloats(batch: Int) -> Int { rate > 0 ? batch * outputShape.count : 0 }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, count = output.count
        masked = context.isTraining && rate > 0
        guard masked else {
            y.update(from: x, count: count)
            return
        }
        let m = context.saved.floats(count: count), keep = 1 - rate, scale = 1 / keep
        for i in 0..<count {
            m[i] = context.rng.uniform() < keep ? scale : 0
            y[i] = x[i] * m[i]
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let g = dy.data, d = dx.data
        if masked {
            let m = context.saved.floats(count: dy.count)
            for i in 0..<dy.count { d[i] += g[i] * m[i] }
        } else {
            for i in 0..<dy.count { d[i] += g[i] }
        }
    }

    public static let registration = LayerRegistration(
        Dropout.self, summary: "inverted dropout (identity in inference)",
        keys: [
            ConfigKey("rate", "number",
                      "Probability p in [0, 1) of zeroing each element in training; the others are "
                      + "scaled by 1/(1 − p) (PyTorch `p`)."),
        ],
        example: LayerExample(["rate": 0.3], inputs: [[4, 5]])
    )
}
