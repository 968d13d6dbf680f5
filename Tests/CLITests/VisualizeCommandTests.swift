import Foundation
import XCTest

/// `visualize filters`, `visualize activations` and `embeddings` on a small trained model.
final class VisualizeCommandTests: XCTestCase {
    /// Width and height from a PNG's IHDR chunk, nil if the bytes are no PNG.
    private func pngSize(_ path: String) -> (Int, Int)? {
        guard let d = FileManager.default.contents(atPath: path), d.count > 24,
              Array(d.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        func be(_ o: Int) -> Int { d[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    func testFiltersActivationsAndEmbeddings() throws {
        let dir = try CLI.freshDirectory("viz")
        let config = dir + "/c.json"
        FileManager.default.createFile(atPath: config, contents: Data("""
            {"model": {"input": [3, 8, 8], "layers": [
               {"type": "conv2d", "name": "c1", "filters": 6, "kernel": 3, "padding": 1, "activation": "relu"},
               {"type": "conv2d", "name": "c2", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
               {"type": "global_avgpool", "name": "pool"},
               {"type": "dense", "name": "out", "units": 3}]},
             "data": {"train": {"type": "synthetic", "count": 24, "classes": 3, "shape": [3, 8, 8]},
                      "test": {"type": "synthetic", "count": 9, "classes": 3, "shape": [3, 8, 8]}},
             "train": {"epochs": 1, "batch_size": 8, "optimizer": {"type": "sgd", "lr": 0.1}}}
            """.utf8))
        XCTAssertEqual(try CLI.run(["train", config, "--out", dir + "/run"]).status, 0)
        let checkpoint = dir + "/run/last.safetensors"

        let filters = try CLI.run(["visualize", "filters", config, "--checkpoint", checkpoint, "--layer", "c1",
                                   "-o", dir + "/f.png", "--zoom", "4"])
        XCTAssertEqual(filters.stdout, "wrote \(dir)/f.png: 6 filters of c1 (3×3×3), in colour (RGB); each tile scaled "
                       + "to its own range\n", filters.stderr)
        // 6 tiles in 3 columns of 12 + 1 pixels (+ 1), 200 wide at least; 2 rows of 13 (+ 1) and the legend.
        XCTAssertEqual(pngSize(dir + "/f.png")?.0, 200)
        XCTAssertEqual(pngSize(dir + "/f.png")?.1, 27 + 18)
        let each = try CLI.run(["visualize", "filters", config, "--layer", "c2", "-o", dir + "/e.png", "--channels", "each",
                                "--scale", "shared"])
        XCTAssertTrue(each.stdout.contains("4 filters of c2 (6×3×3), a row per filter, a tile per input channel; one range "
                                           + "for all tiles (initial weights, seed 1: no --checkpoint)"), each.stdout)
        let maps = try CLI.run(["visualize", "activations", config, "--checkpoint", checkpoint, "--layer", "c1",
                                "--split", "test", "--index", "2", "-o", dir + "/m.png"])
        XCTAssertEqual(maps.status, 0, maps.stderr)
        XCTAssertTrue(maps.stdout.contains("the 6 feature maps (8×8) of c1 for test sample 2"), maps.stdout)
        XCTAssertNotNil(pngSize(dir + "/m.png"))

        let embeddings = try CLI.run(["embeddings", config, "--checkpoint", checkpoint, "--layer", "pool", "-o", dir + "/emb"])
        XCTAssertEqual(embeddings.status, 0, embeddings.stderr)
        let vectors = try String(contentsOfFile: dir + "/emb/vectors.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(vectors.count, 9)
        XCTAssertEqual(vectors[0].split(separator: "\t").count, 4)
        let metadata = try String(contentsOfFile: dir + "/emb/metadata.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metadata.first, "label\tclass")
        XCTAssertEqual(metadata.count, 10)
        XCTAssertTrue(try String(contentsOfFile: dir + "/emb/pca.svg", encoding: .utf8).hasPrefix("<svg"))

        // Errors name what would be valid.
        let noConv = try CLI.run(["visualize", "filters", config, "--layer", "out", "-o", dir + "/x.png"])
        XCTAssertTrue(noConv.stderr.contains("\"out\" has no convolution weight [F, C, kh, kw]; layers with one: c1, c2"),
                      noConv.stderr)
        let flat = try CLI.run(["visualize", "activations", config, "--layer", "pool", "--split", "test", "-o", dir + "/x.png"])
        XCTAssertTrue(flat.stderr.contains("pool's output is [4]; feature maps are [C, H, W]"), flat.stderr)
        let noInput = try CLI.run(["visualize", "activations", config, "--layer", "c1", "-o", dir + "/x.png"])
        XCTAssertTrue(noInput.stderr.contains("give --input IMAGE or --split (with --index)"), noInput.stderr)
    }
}
