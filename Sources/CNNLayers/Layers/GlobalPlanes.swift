import CNNCore

/// What the global pools share: the geometry of what they reduce. Either one window over each
/// whole `H×W` plane of a `[C, H, W]` sample, each plane reduced to one value, so `y: [C]` (or
/// `[C, 1, 1]` with `keep_dims`, as PyTorch's `AdaptiveAvgPool2d(1)` leaves it) — a batch of `N`
/// is `N·C` contiguous planes of `H·W` values, and plane `p` of the input is element `p` of the
/// output —; or, for a `[T, F]` sequence, each feature over the time steps, `y: [F]` (`[1, F]`
/// with `keep_dims`; Keras' `GlobalAveragePooling1D`), over each sample's real steps only where
/// the sequence is padded (`SequenceLengths`).
struct GlobalPlanes {
    let channels: Int, area: Int
    /// For a `[T, F]` input: T (`channels` is F, `area` 1); nil for `[C, H, W]`.
    let steps: Int?
    let lengths: SequenceLengths?
    let outputShape: Shape
    /// One window over the whole image, so receptive-field reports see the global view.
    let window: WindowGeometry?

    init(keepDims: Bool?, context: inout LayerBuildContext) throws {
        let keep = keepDims ?? false
        if context.inputShapes.count == 1, context.inputShapes[0].rank == 2 {
            let x = context.inputShapes[0]
            steps = x[0]
            channels = x[1]
            area = 1
            lengths = context.sequenceLengths(steps: x[0])
            outputShape = keep ? [1, x[1]] : [x[1]]
            window = nil
            return
        }
        let x = try context.singleInput(rank: 3, what: "[channels, height, width] or a sequence [time, features]")
        channels = x[0]
        area = x[1] * x[2]
        steps = nil
        lengths = nil
        outputShape = keep ? [x[0], 1, 1] : [x[0]]
        window = WindowGeometry(channels: x[0], height: x[1], width: x[2], kernelH: x[1], kernelW: x[2])
    }

    /// The planes in a batch of `batch` samples.
    func count(batch: Int) -> Int { batch * channels }

    /// For a sequence input: calls `body(x offset of sample b's first step, y offset, real steps)`
    /// for each sample of the batch; features are `channels` apart from step to step.
    func forEachSequence(batch n: Int, _ context: ExecutionContext, _ body: (Int, Int, Int) -> Void) {
        guard let steps else { preconditionFailure("not a sequence pool") }
        let real = lengths?.read(context, batch: n)
        for b in 0..<n { body(b * steps * channels, b * channels, real.map { Int($0[b]) } ?? steps) }
    }

    /// A phrase for the layer's `details`.
    var details: String? {
        guard steps != nil else { return nil }
        return "over time" + (lengths.map { ", each sample's real steps (\($0.source))" } ?? "")
    }
}
