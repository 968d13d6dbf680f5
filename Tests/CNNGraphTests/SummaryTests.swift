import Foundation
import XCTest
import CNNConfig
@testable import CNNGraph
import CNNLayers
import CNNCore

/// The structure report: totals, block aggregation, receptive field, the rendered table (notes,
/// depth folding) and the JSON form.
final class SummaryTests: XCTestCase {
    /// stem: 4·3·9 + 4 = 112 params on a 4x4 output (an inexact width: (10 − 3)/2 + 1 = 4.5);
    /// residual r (projection, 4 → 8 channels): conv1 288, bn1 16, conv2 576, bn2 16,
    /// downsample 32 + 16 = 944 params; fc 8·5 + 5 = 45.
    static let model = #"""
    {"name": "small", "description": "a test net", "input": [3, 9, 10], "layers": [
        {"type": "conv2d", "name": "stem", "filters": 4, "kernel": 3, "stride": 2},
        {"type": "residual", "name": "r", "variant": "basic", "filters": 8, "activation": "relu"},
        {"type": "global_avgpool", "name": "gap"},
        {"type": "dense", "name": "fc", "units": 5}
    ]}
    """#

    private func graph(_ text: String) throws -> Graph {
        try GraphBuilder.build(model: JSONSource.parse(text, file: "s.json"), path: "model", file: "s.json")
    }

    private func row(_ report: SummaryReport, _ name: String) -> SummaryReport.Row? {
        report.rows.first { $0.name == name }
    }

    /// A table line as `render` lays it out.
    private func line(_ label: String, _ shape: String, _ params: String, _ macs: String, _ trainable: String) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
        return pad(label, 46) + pad(shape, 20) + lpad(params, 13) + lpad(macs, 17) + "  " + trainable
    }

    func testRowsAndTotals() throws {
        let report = Summary.make(try graph(Self.model))
        XCTAssertEqual(report.model, "small")
        XCTAssertEqual(report.description, "a test net")
        XCTAssertEqual(report.inputShape, [3, 9, 10])
        XCTAssertEqual(report.outputShapes, [[5]])
        XCTAssertEqual(report.layers.map(\.name), ["stem", "r.conv1", "r.bn1", "r.relu1", "r.conv2", "r.bn2",
                                                   "r.downsample.0", "r.downsample.1", "r.add", "r_relu", "gap", "fc"])
        XCTAssertEqual(report.rows.map(\.name), ["stem", "r", "r.conv1", "r.bn1", "r.relu1", "r.conv2", "r.bn2",
                                                 "r.downsample.0", "r.downsample.1", "r.add", "r_relu", "gap", "fc"])
        XCTAssertEqual(report.layers.map(\.params), [112, 288, 16, 0, 576, 16, 32, 16, 0, 0, 0, 45])
        XCTAssertEqual(report.layers.map(\.state), [0, 0, 16, 0, 0, 16, 0, 16, 0, 0, 0, 0])
        XCTAssertEqual(report.layers.map(\.macs), [112 * 16, 288 * 16, 16, 0, 576 * 16, 16, 32 * 16, 16, 0, 0, 0, 45])
        XCTAssertEqual(report.layers.map(\.depth), [0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
        XCTAssertEqual(row(report, "stem")?.outputShape, [4, 4, 4])

        // Totals are the sums of the layer rows.
        XCTAssertEqual(report.totalParams, report.layers.reduce(0) { $0 + $1.params })
        XCTAssertEqual(report.totalMACs, report.layers.reduce(0) { $0 + $1.macs })
        XCTAssertEqual(report.nonTrainableState, report.layers.reduce(0) { $0 + $1.state })
        XCTAssertEqual(report.totalParams, 1101)
        XCTAssertEqual(report.trainableParams, 1101)
        XCTAssertEqual(report.nonTrainableParams, 0)
        XCTAssertEqual(report.nonTrainableState, 48)
        XCTAssertEqual(report.totalMACs, 16221)
        XCTAssertEqual(report.parameterBytes, 4 * (1101 + 48))
        XCTAssertEqual(report.activationBytes, 4 * (64 + 9 * 128 + 8 + 5))
        XCTAssertEqual(Summary.make(try graph(Self.model), batch: 8).activationBytes, 8 * 4 * (64 + 9 * 128 + 8 + 5))
        // Saved for backward: μ and rstd of the three batch norms' 8 channels, whatever the batch.
        XCTAssertEqual(report.savedStateBytes, 4 * 3 * 2 * 8)
        XCTAssertEqual(Summary.make(try graph(Self.model), batch: 8).savedStateBytes, 4 * 3 * 2 * 8)
    }

    /// What layers keep for backward grows with the batch where it is per sample: a max pool's
    /// indices (one per output), dropout's mask, an LSTM's time-major input, outputs, gates
    /// (4·H per step), cell planes (2·H per step: c and tanh c) and initial states (h, c).
    func testSavedStateOfPoolsDropoutAndRecurrentLayers() throws {
        let model = #"""
        {"name": "s", "input": [6, 5], "layers": [
            {"type": "dropout", "rate": 0.5},
            {"type": "lstm", "name": "lstm", "hidden": 4, "return_sequences": true},
            {"type": "reshape", "shape": [1, 6, 4]},
            {"type": "maxpool2d", "kernel": 2}
        ]}
        """#
        let g = try graph(model)
        let (t, f, h) = (6, 5, 4)
        let lstm = t * f + t * h + t * 4 * h + 2 * t * h + 2 * h
        for batch in [1, 3] {
            XCTAssertEqual(Summary.make(g, batch: batch).savedStateBytes, 4 * batch * (t * f + lstm + 3 * 2))
        }
    }

    func testBlockRowsAggregateTheirLayers() throws {
        let report = Summary.make(try graph(Self.model))
        XCTAssertEqual(report.blocks.count, 1)
        let r = try XCTUnwrap(row(report, "r"))
        XCTAssertTrue(r.isBlock)
        XCTAssertEqual(r.type, "residual")
        XCTAssertEqual(r.depth, 0)
        XCTAssertEqual(r.params, 944)
        XCTAssertEqual(r.state, 48)
        XCTAssertEqual(r.macs, 4608 + 16 + 9216 + 16 + 512 + 16)
        XCTAssertEqual(r.outputShape, [8, 4, 4])
        let inside = report.layers.filter { $0.name.hasPrefix("r.") }
        XCTAssertEqual(r.params, inside.reduce(0) { $0 + $1.params })
        XCTAssertEqual(r.macs, inside.reduce(0) { $0 + $1.macs })
    }

    func testNestedBlocksAggregateAtEveryLevel() throws {
        let report = Summary.make(try graph(#"""
            {"name": "n", "input": [4, 8, 8], "layers": [
                {"type": "repeat", "name": "layer1", "count": 2, "first": {"stride": 2},
                 "body": {"type": "residual", "variant": "basic", "filters": 4, "activation": "relu"}}
            ]}
            """#))
        XCTAssertEqual(report.blocks.map(\.name), ["layer1", "layer1.0", "layer1.1"])
        XCTAssertEqual(report.blocks.map(\.depth), [0, 1, 1])
        XCTAssertEqual(report.rows.prefix(3).map(\.name), ["layer1", "layer1.0", "layer1.0.conv1"])
        let b0 = try XCTUnwrap(row(report, "layer1.0")), b1 = try XCTUnwrap(row(report, "layer1.1"))
        let outer = try XCTUnwrap(row(report, "layer1"))
        // conv 144 + bn 8 + conv 144 + bn 8 (+ downsample 16 + 8 in the first copy)
        XCTAssertEqual(b0.params, 144 + 8 + 144 + 8 + 16 + 8)
        XCTAssertEqual(b1.params, 144 + 8 + 144 + 8)
        XCTAssertEqual(outer.params, b0.params + b1.params)
        XCTAssertEqual(outer.macs, b0.macs + b1.macs)
        XCTAssertEqual(outer.params, report.totalParams)
        XCTAssertEqual(outer.macs, report.totalMACs)
        XCTAssertEqual(row(report, "layer1.1.conv1")?.depth, 2)
        XCTAssertEqual(row(report, "layer1.0_relu")?.depth, 1)

        let folded = SummaryTable.render(report, depth: 1)
        XCTAssertTrue(folded.contains(line("layer1 (repeat)", "[4, 4, 4]", "632", "9,512", "yes") + "\n"), folded)
        XCTAssertTrue(folded.contains(line("  0 (residual)", "[4, 4, 4]", "328", "4,888", "yes") + "\n"), folded)
        XCTAssertTrue(folded.contains(line("  0_relu (relu)", "[4, 4, 4]", "0", "0", "--") + "\n"), folded)
        XCTAssertFalse(folded.contains("conv1 (conv2d)"), folded)

        let full = SummaryTable.render(report)
        XCTAssertTrue(full.contains(line("    conv1 (conv2d)", "[4, 4, 4]", "144", "2,304", "yes") + "\n"), full)
        XCTAssertTrue(full.contains(line("  1 (residual)", "[4, 4, 4]", "304", "4,624", "yes") + "\n"), full)
        // A stride-2 3x3 with padding 1 on an even size skips only padding: no note.
        XCTAssertFalse(full.contains("note:"), full)
    }

    func testFoldedBlockRowShowsItsLayersNotes() throws {
        let report = Summary.make(try graph(#"""
            {"name": "n", "input": [1, 9, 10], "layers": [
                {"type": "sequential", "name": "seq", "layers": [
                    {"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2},
                    {"type": "relu", "name": "r"}
                ]}
            ]}
            """#))
        let note = "width: (10 − 3 + 2·0)/2 + 1 = 4.5 is not an integer: output 4; "
            + "the last 1 input pixel(s) of the width are never read"
        XCTAssertEqual(row(report, "seq")?.notes, ["seq.c: " + note])
        XCTAssertEqual(row(report, "seq.c")?.notes, [note])

        let folded = SummaryTable.render(report, depth: 0)
        XCTAssertTrue(folded.contains("\n" + line("seq (sequential)", "[2, 4, 4]", "20", "320", "yes")
                                      + "\n    note: seq.c: " + note + "\n"), folded)
        XCTAssertFalse(folded.contains("c (conv2d)"), folded)

        let full = SummaryTable.render(report)
        XCTAssertTrue(full.contains("\n" + line("seq (sequential)", "[2, 4, 4]", "20", "320", "yes")
                                    + "\n" + line("  c (conv2d)", "[2, 4, 4]", "20", "320", "yes")
                                    + "\n      note: " + note + "\n"
                                    + line("  r (relu)", "[2, 4, 4]", "0", "0", "--") + "\n"), full)
        XCTAssertFalse(full.contains("note: seq.c:"), full)
        XCTAssertTrue(full.contains("\nShape notes:            1 inexact output-size division(s), shown on their rows\n"))
    }

    func testReceptiveField() throws {
        let report = Summary.make(try graph(#"""
            {"name": "rf", "input": [1, 16, 16], "layers": [
                {"type": "conv2d", "name": "c1", "filters": 2, "kernel": 3},
                {"type": "relu"},
                {"type": "conv2d", "name": "c2", "filters": 2, "kernel": 3},
                {"type": "maxpool2d", "name": "pool", "kernel": 2},
                {"type": "conv2d", "name": "c3", "filters": 2, "kernel": 3}
            ]}
            """#))
        let rf = try XCTUnwrap(report.receptiveField)
        XCTAssertEqual(rf.node, "c3")
        XCTAssertEqual([rf.height, rf.width, rf.jumpHeight, rf.jumpWidth], [10, 10, 2, 2])
        XCTAssertTrue(SummaryTable.render(report).contains("\nReceptive field:        10x10 pixels at c3 (jump 2)\n"))

        // Branches join at the largest field; dilation widens the window; layers without a
        // spatial output (global pooling, dense) are skipped.
        let branches = Summary.make(try graph(#"""
            {"name": "rf", "input": [1, 16, 16], "layers": [
                {"type": "conv2d", "name": "a", "filters": 2, "kernel": 3, "dilation": 2, "padding": 2},
                {"type": "conv2d", "name": "b", "filters": 2, "kernel": 1, "stride": 2, "inputs": "input"},
                {"type": "conv2d", "name": "a2", "filters": 2, "kernel": 1, "stride": 2, "inputs": "a"},
                {"type": "add", "name": "sum", "inputs": ["a2", "b"]},
                {"type": "global_avgpool"},
                {"type": "dense", "units": 2}
            ]}
            """#))
        let rf2 = try XCTUnwrap(branches.receptiveField)
        XCTAssertEqual(rf2.node, "sum")
        XCTAssertEqual([rf2.height, rf2.width, rf2.jumpHeight, rf2.jumpWidth], [5, 5, 2, 2])

        let vector = Summary.make(try graph(#"{"name": "v", "input": [6], "layers": [{"type": "dense", "units": 2}]}"#))
        XCTAssertNil(vector.receptiveField)
    }

    func testRenderedTable() throws {
        let report = Summary.make(try graph(Self.model))
        let text = SummaryTable.render(report)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = "Layer (type)" + String(repeating: " ", count: 34) + "Output shape" + String(repeating: " ", count: 8)
            + String(repeating: " ", count: 7) + "Params" + String(repeating: " ", count: 13) + "MACs" + "  Trainable"
        XCTAssertEqual(lines[0], "Model: small — a test net")
        XCTAssertEqual(lines[1], "Input: [3, 9, 10]   Output: [5]")
        XCTAssertEqual(lines[3], header)
        XCTAssertEqual(lines[2], String(repeating: "=", count: header.count))
        XCTAssertEqual(lines[5], line("stem (conv2d)", "[4, 4, 4]", "112", "1,792", "yes"))
        XCTAssertEqual(lines[6], "    note: width: (10 − 3 + 2·0)/2 + 1 = 4.5 is not an integer: output 4; "
                       + "the last 1 input pixel(s) of the width are never read")
        XCTAssertEqual(lines[7], line("r (residual)", "[8, 4, 4]", "944", "14,384", "yes"))
        XCTAssertEqual(lines[8], line("  conv1 (conv2d)", "[8, 4, 4]", "288", "4,608", "yes"))
        XCTAssertEqual(lines[10], line("  relu1 (relu)", "[8, 4, 4]", "0", "0", "--"))
        XCTAssertEqual(lines[13], line("  downsample.0 (conv2d)", "[8, 4, 4]", "32", "512", "yes"))
        XCTAssertEqual(lines[16], line("r_relu (relu)", "[8, 4, 4]", "0", "0", "--"))
        XCTAssertEqual(lines[18], line("fc (dense)", "[5]", "45", "45", "yes"))
        XCTAssertEqual(lines[19], String(repeating: "=", count: header.count))
        XCTAssertEqual(lines[20], "Total params:           1,101")
        XCTAssertEqual(lines[21], "Trainable params:       1,101")
        XCTAssertEqual(lines[22], "Non-trainable params:   0")
        XCTAssertEqual(lines[23], "Non-trainable state:    48 (batch-norm running statistics; Keras adds them to its total)")
        XCTAssertEqual(lines[24], "Total MACs:             16,221 (16.22 K) per sample")
        XCTAssertEqual(lines[25], "Parameter memory:       4.49 KiB (float32, parameters and state)")
        XCTAssertEqual(lines[26], "Activation memory:      4.80 KiB forward, batch 1; training also holds their gradients (about 2×)")
        XCTAssertEqual(lines[27], "Saved for backward:     192 B (pooling indices, dropout masks, norm statistics, "
                       + "recurrent gates and states), batch 1")
        XCTAssertEqual(lines[28], "Shared workspace:       31.16 KiB (the largest layer's scratch, reused by every layer), batch 1")
        XCTAssertEqual(lines[29], "Receptive field:        11x11 pixels at r_relu (jump 2)")
        XCTAssertEqual(lines[30], "Shape notes:            1 inexact output-size division(s), shown on their rows")
        XCTAssertEqual(text.filter { $0 == "\n" }.count, lines.count - 1)
        XCTAssertTrue(text.hasSuffix("recurrent layers count every time step.\n"))
    }

    func testDepthFoldingKeepsBlockRows() throws {
        let report = Summary.make(try graph(Self.model))
        let text = SummaryTable.render(report, depth: 0)
        XCTAssertTrue(text.contains(line("r (residual)", "[8, 4, 4]", "944", "14,384", "yes") + "\n"), text)
        XCTAssertTrue(text.contains(line("stem (conv2d)", "[4, 4, 4]", "112", "1,792", "yes") + "\n"), text)
        XCTAssertTrue(text.contains(line("fc (dense)", "[5]", "45", "45", "yes") + "\n"), text)
        for hidden in ["conv1 (conv2d)", "bn1 (batchnorm)", "downsample.0", "add (add)"] {
            XCTAssertFalse(text.contains(hidden), "\(hidden) should be folded")
        }
        XCTAssertTrue(text.contains("    note: width: (10 − 3 + 2·0)/2 + 1 = 4.5"))
        // Totals do not change with folding.
        XCTAssertTrue(text.contains("\nTotal params:           1,101\n"))
        let full = SummaryTable.render(report)
        XCTAssertEqual(full.split(separator: "\n").count - text.split(separator: "\n").count, 8)
    }

    func testJSONEncoding() throws {
        let report = Summary.make(try graph(Self.model))
        let data = try JSONEncoder().encode(report)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["total_params"] as? Int, 1101)
        XCTAssertEqual(object["trainable_params"] as? Int, 1101)
        XCTAssertEqual(object["non_trainable_state"] as? Int, 48)
        XCTAssertEqual(object["total_macs"] as? Int, 16221)
        XCTAssertEqual(object["model"] as? String, "small")
        XCTAssertEqual(object["input_shape"] as? [Int], [3, 9, 10])
        XCTAssertEqual(object["output_shapes"] as? [[Int]], [[5]])
        let rf = try XCTUnwrap(object["receptive_field"] as? [String: Any])
        XCTAssertEqual(rf["node"] as? String, "r_relu")
        XCTAssertEqual(rf["jump_height"] as? Int, 2)
        let layers = try XCTUnwrap(object["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 12)
        for layer in layers {
            for key in ["name", "type", "output_shape", "params", "macs"] {
                XCTAssertNotNil(layer[key], "layer \(layer["name"] ?? "?") has no \(key)")
            }
        }
        XCTAssertEqual(layers[0]["name"] as? String, "stem")
        XCTAssertEqual(layers[0]["type"] as? String, "conv2d")
        XCTAssertEqual(layers[0]["output_shape"] as? [Int], [4, 4, 4])
        XCTAssertEqual(layers[0]["params"] as? Int, 112)
        XCTAssertEqual(layers[0]["macs"] as? Int, 1792)
        XCTAssertEqual((layers[0]["notes"] as? [String])?.count, 1)
        XCTAssertEqual(layers[11]["name"] as? String, "fc")
        XCTAssertEqual(layers[11]["output_shape"] as? [Int], [5])
        let blocks = try XCTUnwrap(object["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.first?["name"] as? String, "r")
        XCTAssertEqual(blocks.first?["params"] as? Int, 944)
    }
}
