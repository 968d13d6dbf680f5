import CNNData
import Foundation

/// A small picture of values: `channels` planes (1 grey, 3 colour) of `height × width`, planes
/// back to back (`[C, H, W]`, the tensors' layout).
public struct Tile: Sendable {
    public let width: Int, height: Int, channels: Int
    public let values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition((channels == 1 || channels == 3) && values.count == width * height * channels,
                     "\(values.count) values for a \(channels)×\(height)×\(width) tile")
        self.width = width; self.height = height; self.channels = channels; self.values = values
    }

    var range: (Float, Float) {
        let finite = values.filter(\.isFinite)
        return (finite.min() ?? 0, finite.max() ?? 0)
    }
}

/// Tiles laid out in a grid, each value a pixel block of `zoom × zoom` (nearest neighbour, so a
/// 5×5 filter stays 25 visible squares), tiles one dark pixel apart, and a legend strip under
/// them: a black-to-white ramp between the values it stands for. `perTile` scales each tile to
/// its own minimum and maximum (the shapes of small filters show; the legend says "min", "max",
/// "each tile"); `shared` scales all to one range (magnitudes compare; the legend gives it).
public enum TileGrid {
    public enum Scaling: String, Sendable, CaseIterable { case perTile = "tile", shared }

    /// Dark grey between the tiles and behind the legend.
    static let background: [UInt8] = [40, 40, 40]

    /// A zoom that makes the larger tile side about 64 pixels, within 1…16.
    public static func zoom(for tile: Tile) -> Int { min(16, max(1, 64 / max(tile.width, tile.height))) }

    public static func render(_ tiles: [Tile], columns: Int, zoom: Int, scaling: Scaling) -> PixelImage {
        precondition(!tiles.isEmpty && columns >= 1 && zoom >= 1, "no tiles, columns or zoom")
        let w = tiles.map(\.width).max()! * zoom, h = tiles.map(\.height).max()! * zoom
        let rows = (tiles.count + columns - 1) / columns, gap = 1, textScale = 2
        let legendHeight = BitmapFont.height(scale: textScale) + 8
        let width = max(columns * (w + gap) + gap, 200), gridHeight = rows * (h + gap) + gap
        let height = gridHeight + legendHeight
        var image = PixelImage(width: width, height: height, channels: 3,
                               pixels: [UInt8](repeating: background[0], count: width * height * 3))
        let ranges = tiles.map(\.range)
        let shared = ranges.reduce((Float.infinity, -Float.infinity)) { (min($0.0, $1.0), max($0.1, $1.1)) }
        for (k, tile) in tiles.enumerated() {
            let (lo, hi) = scaling == .shared ? shared : ranges[k]
            let x0 = gap + (k % columns) * (w + gap), y0 = gap + (k / columns) * (h + gap)
            let plane = tile.width * tile.height
            for y in 0..<tile.height * zoom {
                for x in 0..<tile.width * zoom {
                    let v = (y / zoom) * tile.width + x / zoom, o = ((y0 + y) * width + x0 + x) * 3
                    for c in 0..<3 {
                        image.pixels[o + c] = level(tile.values[(tile.channels == 3 ? c : 0) * plane + v], lo, hi)
                    }
                }
            }
        }
        drawLegend(into: &image, top: gridHeight + 4, scale: textScale,
                   labels: scaling == .shared ? (label(shared.0), label(shared.1)) : ("min", "max"),
                   note: scaling == .shared ? "shared" : "each tile")
        return image
    }

    /// `v` in `[lo, hi]` as 0…255; a constant tile is mid-grey, a non-finite value black.
    static func level(_ v: Float, _ lo: Float, _ hi: Float) -> UInt8 {
        guard v.isFinite else { return 0 }
        guard hi > lo else { return 128 }
        return UInt8(max(0, min(255, ((v - lo) / (hi - lo) * 255).rounded())))
    }

    static func label(_ v: Float) -> String { v.isFinite ? String(format: "%.3g", Double(v)) : "0" }

    private static func drawLegend(into image: inout PixelImage, top: Int, scale: Int, labels: (String, String),
                                   note: String) {
        let white: [UInt8] = [230, 230, 230], rampWidth = 64
        var x = 4
        BitmapFont.draw(labels.0, into: &image, x: x, y: top, scale: scale, color: white)
        x += BitmapFont.width(labels.0, scale: scale) + 2
        for dx in 0..<rampWidth {
            let g = UInt8(dx * 255 / (rampWidth - 1))
            for dy in 0..<BitmapFont.height(scale: scale) where x + dx < image.width {
                let o = ((top + dy) * image.width + x + dx) * 3
                image.pixels[o] = g; image.pixels[o + 1] = g; image.pixels[o + 2] = g
            }
        }
        x += rampWidth + 4
        BitmapFont.draw(labels.1, into: &image, x: x, y: top, scale: scale, color: white)
        x += BitmapFont.width(labels.1, scale: scale) + 4 * scale
        BitmapFont.draw(note, into: &image, x: x, y: top, scale: scale, color: white)
    }
}
