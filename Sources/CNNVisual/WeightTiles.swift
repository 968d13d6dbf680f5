/// The tiles of a convolution's filters and of a layer's feature maps.
public enum WeightTiles {
    /// How a filter with several input channels becomes tiles.
    public enum Channels: String, Sendable, CaseIterable {
        /// Three input channels as one colour tile (a first layer on RGB images, as AlexNet's
        /// 96 filters are shown); the default for 3 channels.
        case color
        /// The mean over the input channels, one grey tile per filter; the default otherwise.
        case mean
        /// One grey tile per filter and input channel, a filter per row.
        case each
    }

    /// The filters of a weight `[F, C, kh, kw]`, and the columns to lay them out in.
    public static func filters(_ weight: [Float], shape: [Int], channels mode: Channels?)
        -> (tiles: [Tile], columns: Int, mode: Channels) {
        precondition(shape.count == 4 && weight.count == shape.reduce(1, *), "a weight [F, C, kh, kw]")
        let (f, c, kh, kw) = (shape[0], shape[1], shape[2], shape[3]), plane = kh * kw
        let mode = mode ?? (c == 3 ? .color : .mean)
        precondition(mode != .color || c == 3, "colour tiles need 3 input channels")
        var tiles: [Tile] = []
        for k in 0..<f {
            let filter = Array(weight[k * c * plane..<(k + 1) * c * plane])
            switch mode {
            case .color:
                tiles.append(Tile(width: kw, height: kh, channels: 3, values: filter))
            case .mean:
                let mean = (0..<plane).map { i in (0..<c).reduce(Float(0)) { $0 + filter[$1 * plane + i] } / Float(c) }
                tiles.append(Tile(width: kw, height: kh, channels: 1, values: mean))
            case .each:
                for j in 0..<c {
                    tiles.append(Tile(width: kw, height: kh, channels: 1, values: Array(filter[j * plane..<(j + 1) * plane])))
                }
            }
        }
        return (tiles, mode == .each ? c : squareColumns(tiles.count), mode)
    }

    /// The `C` maps of one sample's `[C, H, W]` activation, one grey tile each.
    public static func featureMaps(_ values: [Float], shape: [Int]) -> (tiles: [Tile], columns: Int) {
        precondition(shape.count == 3 && values.count == shape.reduce(1, *), "an activation [C, H, W]")
        let plane = shape[1] * shape[2]
        let tiles = (0..<shape[0]).map {
            Tile(width: shape[2], height: shape[1], channels: 1, values: Array(values[$0 * plane..<($0 + 1) * plane]))
        }
        return (tiles, squareColumns(tiles.count))
    }

    /// Columns for a near-square grid: ⌈√n⌉.
    static func squareColumns(_ n: Int) -> Int {
        var c = 1
        while c * c < n { c += 1 }
        return c
    }
}
