import Foundation
import XCTest

final class SummarizeCommandTests: XCTestCase {
    /// The whole LeNet-5 report. Regenerate after an intended change with
    /// `.build/debug/cnnctl summarize configs/models/lenet5.json > Tests/golden/lenet5-summary.txt`.
    func testLeNet5TableMatchesTheGoldenReport() throws {
        let r = try CLI.run(["summarize", "configs/models/lenet5.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, try CLI.golden("lenet5-summary.txt"))
    }

    func testJSONReportHasTheDocumentedFields() throws {
        let r = try CLI.run(["summarize", "configs/models/lenet5.json", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["total_params"] as? Int, 61_706)
        XCTAssertEqual(object["trainable_params"] as? Int, 61_706)
        XCTAssertEqual(object["total_macs"] as? Int, 423_038)
        // The two max pools' argmaxes: 6·14·14 + 16·5·5 indices of 4 bytes.
        XCTAssertEqual(object["saved_state_bytes"] as? Int, 4 * (6 * 14 * 14 + 16 * 5 * 5))
        let layers = try XCTUnwrap(object["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.first?["name"] as? String, "c1")
        XCTAssertEqual(layers.first?["type"] as? String, "conv2d")
        XCTAssertEqual(layers.first?["output_shape"] as? [Int], [6, 28, 28])
        XCTAssertEqual(layers.first?["params"] as? Int, 156)
        XCTAssertEqual(layers.first?["macs"] as? Int, 156 * 28 * 28)
        XCTAssertEqual(layers.reduce(0) { $0 + ($1["params"] as? Int ?? 0) }, 61_706)
    }

    func testDepthFoldsNestedRows() throws {
        let full = try CLI.run(["summarize", "configs/models/resnet18.json"])
        let folded = try CLI.run(["summarize", "configs/models/resnet18.json", "--depth", "0"])
        XCTAssertEqual(folded.status, 0, folded.stderr)
        XCTAssertTrue(full.stdout.contains("conv1 (conv2d)"))
        XCTAssertTrue(folded.stdout.contains("layer1 (repeat)"))
        XCTAssertFalse(folded.stdout.contains("  0 (residual)"))
        XCTAssertTrue(folded.stdout.contains("Total params:           11,689,512"))
    }

    func testInexactShapeIsReportedOnItsRow() throws {
        let file = try CLI.temporaryFile("inexact.json", """
            {"name": "m", "input": [1, 10, 10],
             "layers": [{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2}]}
            """)
        let r = try CLI.run(["summarize", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("""
            c (conv2d)                                    [2, 4, 4]                      20              320  yes
                note: height: (10 − 3 + 2·0)/2 + 1 = 4.5 is not an integer: output 4; the last 1 input pixel(s) of the height are never read
            """), r.stdout)
    }

    func testStrictShapesMakesInexactDivisionAnError() throws {
        let file = try CLI.temporaryFile("strict.json", """
            {"name": "m", "input": [1, 10, 10], "strict_shapes": true,
             "layers": [{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2}]}
            """)
        let r = try CLI.run(["summarize", file])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(file): model.layers[0] (conv2d \"c\").kernel: height: "
                                         + "(10 − 3 + 2·0)/2 + 1 = 4.5 is not an integer"), r.stderr)
    }

    func testSyntaxErrorNamesLineAndColumnAndExitsWithStatus2() throws {
        let file = try CLI.temporaryFile("syntax.json", "{\n  \"name\": \"m\",\n  \"input\": [1, 2 3]\n}\n")
        let r = try CLI.run(["summarize", file])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(file): 3:18: "), r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testUnknownKeyNamesTheKeyPathAndSuggests() throws {
        let file = try CLI.temporaryFile("typo.json", """
            {"name": "m", "input": [1, 8, 8], "layers": [
              {"type": "conv2d", "name": "c1", "filters": 2, "kernel": 3},
              {"type": "conv2d", "name": "c3", "filtres": 4, "kernel": 3}]}
            """)
        let r = try CLI.run(["summarize", file])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "error: \(file): model.layers[1] (conv2d \"c3\"): missing required key "
                       + "\"filters\" (is \"filtres\" a misspelling?)\n")
    }

    func testUnknownLayerTypeSuggestsTheClosest() throws {
        let file = try CLI.temporaryFile("type.json", """
            {"name": "m", "input": [1, 8, 8], "layers": [{"type": "maxpool", "kernel": 2}]}
            """)
        let r = try CLI.run(["summarize", file])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(file): model.layers[0].type: unknown layer type \"maxpool\" "
                                         + "(did you mean \"maxpool2d\"?); known types: "), r.stderr)
    }

    func testMissingFileIsAClearError() throws {
        let r = try CLI.run(["summarize", "no/such/model.json"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "error: no/such/model.json: cannot open: No such file or directory\n")
    }

    func testFullConfigWithAModelPathIsSummarized() throws {
        let model = CLI.repositoryRoot.appendingPathComponent("configs/models/lenet5.json").path
        let file = try CLI.temporaryFile("full.json", "{\"model\": \"\(model)\", \"data\": {}, \"train\": {}}")
        let r = try CLI.run(["summarize", file, "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"total_params\" : 61706"), r.stdout)
    }
}
