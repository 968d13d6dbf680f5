import Foundation
import XCTest

/// `cnnctl predict --split --indices` on dataset samples, and its argument rules.
final class PredictCommandTests: XCTestCase {
    func testDatasetSamplesByIndex() throws {
        let dir = try CLI.freshDirectory("predict")
        let config = dir + "/config.json"
        FileManager.default.createFile(atPath: config, contents: Data("""
            {"model": {"input": [1, 6, 6], "layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]},
             "data": {"train": {"type": "synthetic", "count": 40, "classes": 3, "shape": [1, 6, 6], "seed": 2},
                      "test": {"type": "synthetic", "count": 12, "classes": 3, "shape": [1, 6, 6], "seed": 3}},
             "train": {"epochs": 2, "batch_size": 8, "optimizer": {"type": "adam", "lr": 0.01}}}
            """.utf8))
        XCTAssertEqual(try CLI.run(["train", config, "--out", dir + "/run"]).status, 0)
        let checkpoint = dir + "/run/last.safetensors"
        let r = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--split", "test", "--indices", "0,3-5,11",
                             "--format", "csv", "--top", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n")
        XCTAssertEqual(rows.map { $0.split(separator: ",")[0] }, ["index", "0", "3", "4", "5", "11"])
        let bad = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--split", "test", "--indices", "10-12"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--indices: \"10-12\" is not within the split's samples 0...11"), bad.stderr)
        let syntax = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--split", "test", "--indices", "3-x"])
        XCTAssertEqual(syntax.status, 64)
        XCTAssertTrue(syntax.stderr.contains("--indices: \"3-x\" is not an index or a range such as 10-19"), syntax.stderr)
        let both = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--split", "test", "x.png"])
        XCTAssertEqual(both.status, 64)
        let files = try CLI.run(["predict", config, "--checkpoint", checkpoint, "x.png"])
        XCTAssertEqual(files.status, 2)
        XCTAssertTrue(files.stderr.contains("is not an image source, so predict takes --split"), files.stderr)
    }
}
