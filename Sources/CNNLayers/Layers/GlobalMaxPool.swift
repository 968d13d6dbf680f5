import CNNCore

/// Global max pooling (PyTorch `AdaptiveMaxPool2d(1)` followed by `flatten`):
/// `y[n, c] = max_{h, w} x[n, c, h, w]`.
///
/// `x: [N, C, H, W] → y: [N, C]`, or `[N, C, 1, 1]` with `keep_dims`; or a sequence over time,
/// `x: [N, T, F] → y: [N, F]` (`[N, 1, F]`), the maximum over each sample's real steps after a
/// padded embedding (0 for a sample of padding only). No parameters. The argmax of each output
/// (the first maximum; a NaN wins, as in PyTorch) is kept for backward.
public final class GlobalMaxPool: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var keepDims: Bool?

        private enum CodingKeys: String, CodingKey { case keepDims = "keep_dims" }
    }

    public let name: String
    public static let typeName = "global_maxpool"
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

    /// The argmax of every output element, `[N, C]` Int32.
    public func savedStateFloats(batch: Int) -> Int { batch * outputShape.count }

    public var details: String? { planes.details }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], n = x.shape[0], area = planes.area
        let idx = context.saved.indices(count: planes.count(batch: n))
        if planes.steps != nil { return forwardOverTime(x, output, idx, context) }
        for p in 0..<planes.count(batch: n) {
            let xp = x.data + p * area
            var best = -Float.infinity, at = 0
            for i in 0..<area where xp[i] > best || xp[i].isNaN {
                best = xp[i]
                at = i
            }
            output.data[p] = best
            idx[p] = Int32(at)
        }
    }

    /// `idx` holds the input offset of each output's maximum within its sample, −1 for none.
    private func forwardOverTime(_ x: Tensor, _ y: Tensor, _ idx: UnsafeMutablePointer<Int32>,
                                 _ context: ExecutionContext) {
        let f = planes.channels
        planes.forEachSequence(batch: x.shape[0], context) { xo, yo, real in
            for j in 0..<f {
                var best = real > 0 ? -Float.infinity : 0, at = -1
                for t in 0..<real where x.data[xo + t * f + j] > best || x.data[xo + t * f + j].isNaN {
                    best = x.data[xo + t * f + j]
                    at = t * f + j
                }
                y.data[yo + j] = best
                idx[yo + j] = Int32(at)
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let area = planes.area, idx = context.saved.indices(count: planes.count(batch: dy.shape[0]))
        if let steps = planes.steps {
            let f = planes.channels
            for p in 0..<planes.count(batch: dy.shape[0]) where idx[p] >= 0 {
                dx.data[p / f * steps * f + Int(idx[p])] += dy.data[p]
            }
            return
        }
        for p in 0..<planes.count(batch: dy.shape[0]) { dx.data[p * area + Int(idx[p])] += dy.data[p] }
    }

    public static let registration = LayerRegistration(
        GlobalMaxPool.self, summary: "global max pooling, [C, H, W] → [C] (or [C, 1, 1]); [T, F] → [F] over time",
        keys: [
            ConfigKey("keep_dims", "bool", default: "false", "Outputs [C, 1, 1] instead of [C] ([1, F] instead of [F])."),
        ],
        example: LayerExample([:], inputs: [[3, 5, 4]], spacedInputs: true)
    )
}
