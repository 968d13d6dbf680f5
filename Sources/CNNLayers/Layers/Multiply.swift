import CNNCore

/// Elementwise product of two inputs, with a per-channel scale broadcast over the spatial axes:
/// `y[n, c, h, w] = x[n, c, h, w] · s[n, c]` (the "scale" step of squeeze-and-excitation, Hu et
/// al. 2018, "Squeeze-and-Excitation Networks"), or `y = x ⊙ s` when both shapes are equal.
///
/// `x: [N, C, H, W], s: [N, C, 1, 1] or [N, C] → y: [N, C, H, W]`; equal shapes → that shape.
/// No parameters; `dx = dy · s`, `ds[c] = Σ_{h,w} dy · x`.
public final class Multiply: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        /// Asks for the (empty) object so that any key is reported as unknown.
        public init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}

        public init() {}
    }

    public let name: String
    public static let typeName = "multiply"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int
    /// Elements of `x` per channel that share one scale (1 for equal shapes, which then count
    /// every element as a "channel").
    let spatial: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let shapes = context.inputShapes
        guard shapes.count == 2 else {
            throw context.error("takes exactly 2 inputs, got \(shapes.count)")
        }
        let (x, s) = (shapes[0], shapes[1])
        if x == s {
            channels = x.count
            spatial = 1
        } else {
            let isScale = x.rank >= 2 && s.rank >= 1 && s[0] == x[0] && s.count == x[0]
                && (s.rank == 1 || s.rank == x.rank)
            guard isScale else {
                let ch = x.dims.first ?? 0
                let column = Shape([ch] + Array(repeating: 1, count: max(x.rank - 1, 0)))
                throw context.error("input 1 has shape \(s), input 0 has shape \(x): the second "
                                    + "input must match the first or be a per-channel scale "
                                    + "[\(ch)] or \(column)")
            }
            channels = x[0]
            spatial = x.count / x[0]
        }
        name = context.name
        inputShapes = shapes
        outputShape = x
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, s = inputs[1].data, y = output.data
        let rows = output.shape[0] * channels
        for r in 0..<rows {
            let v = s[r], base = r * spatial
            for i in base..<(base + spatial) { y[i] = x[i] * v }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0].data, s = inputs[1].data, g = dy.data
        let dx = inputGradients[0]?.data, ds = inputGradients[1]?.data
        let rows = dy.shape[0] * channels
        for r in 0..<rows {
            let base = r * spatial
            if let dx {
                let v = s[r]
                for i in base..<(base + spatial) { dx[i] += g[i] * v }
            }
            if let ds {
                var sum: Float = 0
                for i in base..<(base + spatial) { sum += g[i] * x[i] }
                ds[r] += sum
            }
        }
    }

    public static let registration = LayerRegistration(
        Multiply.self,
        summary: "elementwise product, or per-channel scaling by a [C, 1, 1] or [C] input (SE)",
        keys: [],
        example: LayerExample([:], inputs: [[3, 4, 5], [3, 1, 1]])
    )
}
