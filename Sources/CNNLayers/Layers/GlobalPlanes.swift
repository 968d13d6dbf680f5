import CNNCore

/// What the global pools share: one window over each whole `H×W` plane of a `[C, H, W]` sample,
/// each plane reduced to one value, so `y: [C]` (or `[C, 1, 1]` with `keep_dims`, as PyTorch's
/// `AdaptiveAvgPool2d(1)` leaves it). A batch of `N` is `N·C` contiguous planes of `H·W` values,
/// and plane `p` of the input is element `p` of the output, so both pools are one loop over `p`.
struct GlobalPlanes {
    let channels: Int, area: Int
    let outputShape: Shape
    /// One window over the whole image, so receptive-field reports see the global view.
    let window: WindowGeometry

    init(keepDims: Bool?, context: LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        channels = x[0]
        area = x[1] * x[2]
        outputShape = keepDims ?? false ? [x[0], 1, 1] : [x[0]]
        window = WindowGeometry(channels: x[0], height: x[1], width: x[2], kernelH: x[1], kernelW: x[2])
    }

    /// The planes in a batch of `batch` samples.
    func count(batch: Int) -> Int { batch * channels }
}
