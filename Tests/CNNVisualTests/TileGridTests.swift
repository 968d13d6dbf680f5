import CNNData
import XCTest

@testable import CNNVisual

/// The pictures checked pixel by pixel: tile placement, zoom, per-tile and shared scaling,
/// colour tiles, the legend, and the filter and feature-map tiles.
final class TileGridTests: XCTestCase {
    private func pixel(_ image: PixelImage, _ x: Int, _ y: Int) -> [UInt8] {
        Array(image.pixels[(y * image.width + x) * 3..<(y * image.width + x) * 3 + 3])
    }

    func testTilesAreScaledPlacedAndZoomed() {
        let a = Tile(width: 2, height: 1, channels: 1, values: [-1, 1])
        let b = Tile(width: 2, height: 1, channels: 1, values: [0, 0.5])
        let own = TileGrid.render([a, b], columns: 2, zoom: 3, scaling: .perTile)
        // Tiles of 6×3 pixels one pixel apart from x = 1; at least 200 wide for the legend.
        XCTAssertEqual(own.width, 200)
        XCTAssertEqual(pixel(own, 0, 0), TileGrid.background)
        XCTAssertEqual(pixel(own, 1, 1), [0, 0, 0], "a's minimum")
        XCTAssertEqual(pixel(own, 3, 3), [0, 0, 0], "zoomed: 3×3 pixels per value")
        XCTAssertEqual(pixel(own, 4, 1), [255, 255, 255], "a's maximum")
        XCTAssertEqual(pixel(own, 7, 1), TileGrid.background, "the gap between the tiles")
        XCTAssertEqual(pixel(own, 8, 1), [0, 0, 0], "b's own minimum")
        XCTAssertEqual(pixel(own, 11, 1), [255, 255, 255], "b's own maximum")
        let shared = TileGrid.render([a, b], columns: 2, zoom: 3, scaling: .shared)
        XCTAssertEqual(pixel(shared, 8, 1), [128, 128, 128], "0 in [-1, 1]")
        XCTAssertEqual(pixel(shared, 11, 1), [191, 191, 191], "0.5 in [-1, 1]")
        // The legend: a ramp from black to white under the grid, and light text.
        let legend = Array(shared.pixels[(shared.width * 5 * 3)...])
        XCTAssertTrue(legend.contains(230), "legend text")
        XCTAssertTrue(legend.contains(0) && legend.contains(255), "the ramp's ends")
    }

    func testColourTilesKeepTheirChannelsOnOneScale() {
        // R = 1, G = 0, B = −1 everywhere: one scale over the three channels.
        let t = Tile(width: 1, height: 1, channels: 3, values: [1, 0, -1])
        let image = TileGrid.render([t], columns: 1, zoom: 1, scaling: .perTile)
        XCTAssertEqual(pixel(image, 1, 1), [255, 128, 0])
    }

    func testFiltersAndFeatureMaps() {
        // Two filters of 3 input channels, 1×2: colour by default, or their mean, or each channel.
        let weight: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let color = WeightTiles.filters(weight, shape: [2, 3, 1, 2], channels: nil)
        XCTAssertEqual(color.mode, .color)
        XCTAssertEqual(color.tiles.map(\.channels), [3, 3])
        let mean = WeightTiles.filters(weight, shape: [2, 3, 1, 2], channels: .mean)
        XCTAssertEqual(mean.tiles.map(\.values), [[3, 4], [9, 10]])
        let each = WeightTiles.filters(weight, shape: [2, 3, 1, 2], channels: .each)
        XCTAssertEqual(each.tiles.count, 6)
        XCTAssertEqual(each.columns, 3, "a row per filter")
        XCTAssertEqual(each.tiles[4].values, [9, 10])
        XCTAssertEqual(WeightTiles.filters([Float](repeating: 0, count: 96 * 4), shape: [96, 1, 2, 2], channels: nil).columns, 10)
        let maps = WeightTiles.featureMaps([1, 2, 3, 4, 5, 6], shape: [3, 1, 2])
        XCTAssertEqual(maps.tiles.map(\.values), [[1, 2], [3, 4], [5, 6]])
        XCTAssertEqual(maps.columns, 2)
    }

    func testProjectorFilesAndScatter() {
        XCTAssertEqual(EmbeddingProjection.vectorsTSV([1, 0.5, -2, 1e-7], count: 2, dimension: 2), "1\t0.5\n-2\t1e-07\n")
        XCTAssertEqual(EmbeddingProjection.metadataTSV(columns: ["token", "index"], rows: [["a\tb", "0"], ["new\nline", "1"]]),
                       "token\tindex\na b\t0\nnew line\t1\n")
        let svg = EmbeddingProjection.scatterSVG(points: [0, 0, 1, 1, 2, 0], groups: [0, 1, 1], labels: ["<pad>", nil, nil],
                                                 groupNames: ["a", "b"], title: "t & u", axes: ("PC1", "PC2"))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3 + 2, "three points and two legend marks")
        XCTAssertTrue(svg.contains("&lt;pad&gt;") && svg.contains("t &amp; u"))
    }
}
