import CNNCore

/// Global max pooling (PyTorch `AdaptiveMaxPool2d(1)` followed by `flatten`):
/// `y[n, c] = max_{h, w} x[n, c, h, w]`.
///
/// `x: [N, C, H, W] → y: [N, C]`, or `[N, C, 1, 1]` with `keep_dims`. No parameters. The argmax
/// of each plane (the first maximum; a NaN wins, as in PyTorch) is kept for backward.
public final class GlobalMaxPool: Layer {
    public struct Config: Decodable, Sendable {
        var keep_dims: Bool?
    }

    public let name: String
    public var type: String { "global_maxpool" }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// One window over the whole image, so receptive-field reports see the global view.
    public let window: WindowGeometry?
    let channels: Int, area: Int

    /// `[N, C]` argmax indices of the last forward; grown only when the batch grows.
    private var argmax: UnsafeMutablePointer<Int32>?
    private var argmaxBatch = 0

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        name = context.name
        inputShapes = context.inputShapes
        channels = x[0]
        area = x[1] * x[2]
        outputShape = c.keep_dims ?? false ? [x[0], 1, 1] : [x[0]]
        window = WindowGeometry(channels: x[0], height: x[1], width: x[2], kernelH: x[1], kernelW: x[2])
    }

    deinit { argmax?.deallocate() }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], n = x.shape[0]
        if n > argmaxBatch || argmax == nil {
            argmax?.deallocate()
            argmax = .allocate(capacity: max(n, 1) * channels)
            argmaxBatch = n
        }
        let idx = argmax!
        for p in 0..<(n * channels) {
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

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0], let idx = argmax else { return }
        for p in 0..<(dy.shape[0] * channels) { dx.data[p * area + Int(idx[p])] += dy.data[p] }
    }

    public static let registration = LayerRegistration(
        type: "global_maxpool", summary: "global max pooling, [C, H, W] → [C] (or [C, 1, 1])",
        keys: [
            ConfigKey("keep_dims", "bool", default: "false", "Outputs [C, 1, 1] instead of [C]."),
        ],
        example: LayerExample([:], inputs: [[3, 5, 4]], spacedInputs: true)
    ) { context in try GlobalMaxPool(context.decode(Config.self), context: &context) }
}
