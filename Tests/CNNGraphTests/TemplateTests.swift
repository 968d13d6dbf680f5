import XCTest
import CNNConfig
import CNNLayers
@testable import CNNGraph

/// `define`d templates and `repeat`'s dotted overrides: expansion, names, and errors that point
/// at both the use and the definition.
final class TemplateTests: XCTestCase {
    private let convBN = #"""
        "define": {"conv_bn": {"params": {"filters": null, "kernel": 1, "stride": 1},
                               "body": [{"type": "conv2d", "name": "conv", "filters": "$filters", "kernel": "$kernel",
                                         "stride": "$stride", "bias": false},
                                        {"type": "batchnorm", "name": "bn"}, {"type": "relu", "name": "relu"}]},
                   "branchy": {"params": {"width": 2}, "body": {"type": "inception", "branches": [
                               [{"type": "conv_bn", "name": "a", "filters": "$width"}],
                               [{"type": "conv_bn", "name": "b", "filters": 3, "kernel": 1, "stride": 1}]]}}},
        """#

    func testListBodyIsABlockNamedByTheUse() throws {
        let g = try build(#"{"type": "conv_bn", "name": "stem", "filters": 4, "stride": 2}, {"type": "conv_bn", "filters": 5}"#,
                          extra: convBN)
        XCTAssertEqual(names(g), ["stem.conv", "stem.bn", "stem.relu", "conv_bn_1.conv", "conv_bn_1.bn", "conv_bn_1.relu"])
        XCTAssertEqual(shape(g, "stem.relu"), [4, 4, 4])
        XCTAssertEqual(shape(g, "conv_bn_1.relu"), [5, 4, 4])
        XCTAssertEqual(g.nodes[0].blocks, [BlockFrame(name: "stem", type: "conv_bn")])
        XCTAssertEqual(g.node(named: "stem.conv")?.layer.parameterCount, 4 * 3)
    }

    func testObjectBodyTakesTheUsesNameInputsAndActivation() throws {
        let g = try build(#"{"type": "branchy", "name": "mixed", "width": 6, "inputs": "input", "activation": "relu"}"#,
                          extra: convBN)
        XCTAssertEqual(shape(g, "mixed.concat"), [9, 8, 8])
        XCTAssertEqual(inputs(g, "mixed.branch1.a.conv"), ["input"])
        XCTAssertEqual(inputs(g, "mixed_relu"), ["mixed.concat"])
        XCTAssertEqual(g.node(named: "mixed.branch2.b.conv")?.blocks.map(\.type), ["inception", "conv_bn"])
    }

    func testErrorsNameTheUseAndTheDefinition() {
        XCTAssertEqual(error(#"{"type": "conv_bn", "name": "s", "filter": 4}"#, extra: convBN),
                       "m.json: model.layers[0] (conv_bn \"s\").filter: template conv_bn (model.define.conv_bn) has no "
                       + "parameter \"filter\" (did you mean \"filters\"?); its parameters: filters, kernel, stride")
        XCTAssertEqual(error(#"{"type": "conv_bn", "name": "s"}"#, extra: convBN),
                       "m.json: model.layers[0] (conv_bn \"s\"): missing required parameter \"filters\" of template "
                       + "conv_bn (model.define.conv_bn)")
        XCTAssertEqual(error(#"{"type": "conv_bn", "name": "s", "filters": 4, "kernel": 0}"#, extra: convBN),
                       "m.json: model.layers[0] (conv_bn \"s\") → model.define.conv_bn.body[0] (conv2d \"conv\").kernel: "
                       + "must be in 1...1024, got 0")
    }

    func testDefinitionsAreChecked() {
        let use = #"{"type": "relu"}"#
        XCTAssertEqual(error(use, extra: #""define": {"t": {"params": {"k": 1}, "body": {"type": "conv2d", "kernel": "$kk"}}},"#),
                       "m.json: model.define.t.body.kernel: \"$kk\" names no parameter of template t (did you mean \"k\"?); "
                       + "its parameters: k")
        XCTAssertEqual(error(use, extra: #""define": {"t": {"params": {"k": 1, "unused": 2}, "body": {"type": "conv2d", "kernel": "$k"}}},"#),
                       "m.json: model.define.t.params.unused: is never used as \"$unused\" in the body")
        XCTAssertEqual(error(use, extra: #""define": {"conv2d": {"body": {"type": "relu"}}},"#),
                       "m.json: model.define.conv2d: \"conv2d\" is a built-in type; choose another name")
        XCTAssertEqual(error(#"{"type": "a"}"#, extra: #""define": {"a": {"body": [{"type": "b"}]}, "b": {"body": {"type": "a"}}},"#),
                       "m.json: model.layers[0] (a \"a_0\") → model.define.a.body[0] (b \"b_0\") → model.define.b.body "
                       + "(a \"b_0\"): template a uses itself: a → b → a")
    }

    /// A block's or template use's name, given as an input, is its output (U-Net's skips).
    func testBlockNamesAreTheirOutputs() throws {
        let g = try build(#"""
            {"type": "conv_bn", "name": "enc", "filters": 4}, {"type": "conv_bn", "name": "mid", "filters": 5},
            {"type": "concat", "name": "skip", "inputs": ["mid", "enc"]}
            """#, extra: convBN)
        XCTAssertEqual(inputs(g, "skip"), ["mid.relu", "enc.relu"])
        XCTAssertEqual(shape(g, "skip"), [9, 8, 8])
    }

    /// flat_names: branch entries named directly inside the inception block, and refused when
    /// two branches use one name.
    func testInceptionFlatNames() throws {
        let g = try build(#"""
            {"type": "inception", "name": "mix", "flat_names": true, "branches": [
              [{"type": "conv2d", "name": "b1", "filters": 2, "kernel": 1}],
              [{"type": "conv2d", "name": "b2a", "filters": 2, "kernel": 1},
               {"type": "conv2d", "name": "b2b", "filters": 3, "kernel": 1, "inputs": "b2a"}]]}
            """#)
        XCTAssertEqual(names(g), ["mix.b1", "mix.b2a", "mix.b2b", "mix.concat"])
        XCTAssertTrue(error(#"""
            {"type": "inception", "name": "mix", "flat_names": true, "branches": [
              [{"type": "conv2d", "name": "c", "filters": 2, "kernel": 1}], [{"type": "conv2d", "name": "c", "filters": 2, "kernel": 1}]]}
            """#).contains("duplicate node name \"mix.c\""))
    }

    func testUnknownTypeListsTemplates() {
        XCTAssertTrue(error(#"{"type": "conv_bm", "filters": 2}"#, extra: convBN)
            .contains("unknown layer type \"conv_bm\" (did you mean \"conv_bn\"?)"))
    }

    func testRepeatDottedOverrideReachesInsideTheBody() throws {
        let g = try build(#"""
            {"type": "repeat", "name": "layer2", "count": 2, "first": {"conv1.stride": 2, "shortcut": "projection"},
             "body": {"type": "residual", "body": [
                {"type": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "padding": 1},
                {"type": "conv2d", "name": "conv2", "filters": 4, "kernel": 3, "padding": 1}]}}
            """#)
        XCTAssertEqual(shape(g, "layer2.0.conv1"), [4, 4, 4])
        XCTAssertEqual(shape(g, "layer2.1.conv1"), [4, 4, 4])
        XCTAssertNotNil(g.node(named: "layer2.0.downsample.0"))
        XCTAssertNil(g.node(named: "layer2.1.downsample.0"))
        XCTAssertEqual(error(#"""
            {"type": "repeat", "name": "r", "count": 2, "first": {"conv9.stride": 2},
             "body": {"type": "sequential", "layers": [{"type": "conv2d", "name": "conv1", "filters": 4, "kernel": 1}]}}
            """#), "m.json: model.layers[0] (repeat \"r\").first.conv9.stride: no entry named \"conv9\" inside the body "
                   + "(did you mean \"conv1\"?); named entries: conv1")
    }
}

/// The model's drop-path schedule: rates by position among all drop_path layers (`fixed`, the
/// fifth, counts but keeps its own rate).
final class DepthScheduleTests: XCTestCase {
    private let blocks = #"""
        {"type": "repeat", "name": "s", "count": 4, "body": {"type": "residual", "body": [
            {"type": "conv2d", "name": "c", "filters": 3, "kernel": 1}, {"type": "drop_path", "name": "dp"}]}},
        {"type": "drop_path", "name": "fixed", "rate": 0.5}
        """#

    private func rates(_ g: Graph) -> [Float] { g.nodes.compactMap { ($0.layer as? DropPath)?.rate } }

    func testLinearReachesTheMaximumAtTheLastLayer() throws {
        let g = try build(blocks, extra: #""drop_path": {"max_rate": 0.3, "schedule": "linear"},"#)
        XCTAssertEqual(rates(g), [0, 0.075, 0.15, 0.225, 0.5])
    }

    func testLinearExclusiveStopsBelowIt() throws {
        let g = try build(blocks, extra: #""drop_path": {"max_rate": 0.2, "schedule": "linear_exclusive"},"#)
        XCTAssertEqual(rates(g), [0, 0.04, 0.08, 0.12, 0.5])
    }

    func testScheduleErrors() {
        XCTAssertEqual(error(blocks), "m.json: model: drop_path \"s.0.dp\" gives no \"rate\" and the model has no "
                       + "\"drop_path\": {\"max_rate\": …, \"schedule\": \"linear\"}")
        XCTAssertEqual(error(#"{"type": "relu"}"#, extra: #""drop_path": {"max_rate": 0.1},"#),
                       "m.json: model.drop_path: no drop_path layer follows the schedule (one without \"rate\")")
        XCTAssertEqual(error(blocks, extra: #""drop_path": {"max_rate": 1.5},"#),
                       "m.json: model.drop_path.max_rate: must be in [0, 1), got 1.5")
    }
}

/// The model examples in docs/CONFIG.md build (```jsonc blocks with "layers").
final class ConfigReferenceExampleTests: XCTestCase {
    func testEveryModelExampleBuilds() throws {
        let path = ReferenceModelTests.modelsDirectory + "/../../docs/CONFIG.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let examples = text.components(separatedBy: "```jsonc\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
            .filter { $0.contains("\"layers\"") }
        XCTAssertGreaterThanOrEqual(examples.count, 2)
        for example in examples {
            let g = try GraphBuilder.build(model: JSONSource.parse(example, file: "CONFIG.md"), file: "CONFIG.md")
            XCTAssertGreaterThan(g.parameterCount, 0)
        }
    }
}
