import XCTest
import CNNConfig
@testable import CNNGraph
import CNNLayers
import CNNCore

/// Builds models from JSON text and checks node names, shapes, parameters, block frames and the
/// exact wording of configuration errors.
final class GraphBuilderTests: XCTestCase {
    // MARK: - Errors

    func testUnknownTypeSuggestsClosest() {
        let known = Registry.typeNames.joined(separator: ", ")
        XCTAssertEqual(error(#"{"type": "conv2", "filters": 4, "kernel": 3}"#),
                       "m.json: model.layers[0].type: unknown layer type \"conv2\" (did you mean \"conv2d\"?); "
                       + "known types: " + known)
        XCTAssertTrue(known.contains("conv2d") && known.contains("residual") && known.contains("relu"))
    }

    func testUnknownKeyInLayer() {
        let layers = #"{"type": "conv2d", "filters": 4, "kernel": 3}, {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "filtres": 8}"#
        XCTAssertEqual(error(layers),
                       "m.json: model.layers[1] (conv2d \"c1\").filtres: unknown key \"filtres\"; valid keys: "
                       + "filters, kernel, stride, padding, padding_mode, dilation, groups, bias, connections "
                       + "(did you mean \"filters\"?)")
    }

    func testMisspelledRequiredKey() {
        let layers = #"{"type": "relu"}, {"type": "conv2d", "name": "c1", "filtres": 4, "kernel": 3}"#
        XCTAssertEqual(error(layers),
                       "m.json: model.layers[1] (conv2d \"c1\"): missing required key \"filters\" "
                       + "(is \"filtres\" a misspelling?)")
    }

    func testWrongValueType() {
        XCTAssertEqual(error(#"{"type": "conv2d", "name": "c1", "filters": 4, "kernel": "five"}"#),
                       "m.json: model.layers[0] (conv2d \"c1\").kernel: expected an integer or [height, width], got a string")
        XCTAssertEqual(error(#"{"type": "conv2d", "name": "c1", "filters": 4.5, "kernel": 3}"#),
                       "m.json: model.layers[0] (conv2d \"c1\").filters: expected an integer, got a number (4.5)")
    }

    func testInputNamingMissingNode() {
        let layers = #"{"type": "conv2d", "name": "c1", "filters": 3, "kernel": 1}, {"type": "add", "name": "a", "inputs": ["c1", "nope"]}"#
        XCTAssertEqual(error(layers),
                       "m.json: model.layers[1] (add \"a\").inputs: no earlier node named \"nope\" "
                       + "(nodes are named by \"name\"; an input must come earlier in the file)")
        let typo = #"{"type": "conv2d", "name": "stem", "filters": 3, "kernel": 1}, {"type": "add", "name": "a", "inputs": ["input", "stme"]}"#
        XCTAssertEqual(error(typo),
                       "m.json: model.layers[1] (add \"a\").inputs: no earlier node named \"stme\" (did you mean \"stem\"?) "
                       + "(nodes are named by \"name\"; an input must come earlier in the file)")
        // A later node is not an input yet.
        let later = #"{"type": "add", "name": "a", "inputs": ["input", "c9"]}, {"type": "conv2d", "name": "c9", "filters": 3, "kernel": 1}"#
        XCTAssertTrue(error(later).hasPrefix("m.json: model.layers[0] (add \"a\").inputs: no earlier node named \"c9\""))
    }

    func testDuplicateNames() {
        let layers = #"{"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3}, {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3}"#
        XCTAssertEqual(error(layers), "m.json: model.layers[1] (conv2d \"c1\").name: duplicate node name \"c1\"")
    }

    /// Block names share the namespace of node names: two blocks named alike would otherwise be
    /// merged into one row by the summary, and a layer could take a block's name.
    func testDuplicateBlockNames() {
        let blocks = #"{"type": "sequential", "name": "head", "layers": [{"type": "relu", "name": "a"}]}, {"type": "sequential", "name": "head", "layers": [{"type": "relu", "name": "b"}]}"#
        XCTAssertEqual(error(blocks), "m.json: model.layers[1] (sequential \"head\").name: duplicate node name \"head\"")
        let layerAfterBlock = #"{"type": "sequential", "name": "head", "layers": [{"type": "relu", "name": "a"}]}, {"type": "relu", "name": "head"}"#
        XCTAssertEqual(error(layerAfterBlock), "m.json: model.layers[1] (relu \"head\").name: duplicate node name \"head\"")
        let blockAfterLayer = #"{"type": "relu", "name": "head"}, {"type": "sequential", "name": "head", "layers": [{"type": "relu", "name": "a"}]}"#
        XCTAssertEqual(error(blockAfterLayer), "m.json: model.layers[1] (sequential \"head\").name: duplicate node name \"head\"")
    }

    func testBadActivationSuggests() {
        let list = GraphBuilder.activationTypes.joined(separator: ", ")
        XCTAssertTrue(list.hasPrefix("relu, relu6, leaky_relu, elu, tanh, sigmoid"))
        XCTAssertEqual(error(#"{"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "activation": "ReLU"}"#),
                       "m.json: model.layers[0] (conv2d \"c1\").activation: expected one of \(list) (did you mean \"relu\"?)")
        XCTAssertEqual(error(#"{"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "activation": 1}"#),
                       "m.json: model.layers[0] (conv2d \"c1\").activation: expected one of \(list)")
    }

    func testMissingLayers() {
        XCTAssertEqual(errorText(#"{"name": "m", "input": [3, 8, 8]}"#), "m.json: model: missing required key \"layers\"")
        XCTAssertEqual(errorText(#"{"name": "m", "input": [3, 8, 8], "layers": []}"#),
                       "m.json: model.layers: expected a non-empty list of layers")
    }

    func testDenseOnImageSuggestsFlatten() {
        XCTAssertEqual(error(#"{"type": "dense", "name": "fc", "units": 10}"#),
                       "m.json: model.layers[0] (dense \"fc\"): expects a [features] vector or a [time, features] "
                       + "sequence, got [3, 8, 8]; add a \"flatten\" layer before it")
    }

    func testIdentityShortcutWithMismatchedShapes() {
        XCTAssertEqual(error(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 8, "stride": 2, "shortcut": "identity"}"#,
                             input: "[4, 8, 8]"),
                       "m.json: model.layers[0] (residual \"r\").shortcut: identity needs the body to keep the shape, "
                       + "but it maps [4, 8, 8] to [8, 4, 4]; use \"projection\" or \"zero_pad\"")
    }

    func testRepeatBodyMayNotBeNamed() {
        let layers = #"{"type": "repeat", "name": "layer2", "count": 2, "body": {"type": "conv2d", "name": "x", "filters": 3, "kernel": 1}}"#
        XCTAssertEqual(error(layers),
                       "m.json: model.layers[0] (repeat \"layer2\").body.name: copies are named by their index; remove \"name\"")
    }

    func testStrictShapesRejectsInexactDivision() {
        let layer = #"{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2}"#
        XCTAssertEqual(error(layer, input: "[1, 9, 10]", extra: "\"strict_shapes\": true,"),
                       "m.json: model.layers[0] (conv2d \"c\").kernel: width: (10 − 3 + 2·0)/2 + 1 = 4.5 is not an "
                       + "integer: output 4; the last 1 input pixel(s) of the width are never read "
                       + "(strict_shapes is on; adjust padding, kernel or stride)")
    }

    func testInexactDivisionIsANoteWithoutStrictShapes() throws {
        let layer = #"{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2}"#
        let g = try build(layer, input: "[1, 9, 10]")
        XCTAssertEqual(shape(g, "c"), [2, 4, 4])
        let notes = g.node(named: "c")!.notes
        XCTAssertEqual(notes, ["width: (10 − 3 + 2·0)/2 + 1 = 4.5 is not an integer: output 4; "
                               + "the last 1 input pixel(s) of the width are never read"])
        XCTAssertTrue(notes[0].contains("4.5") && notes[0].contains("never read"))
        // Exact arithmetic leaves no note.
        let exact = try build(#"{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2}"#, input: "[1, 9, 9]")
        XCTAssertEqual(exact.node(named: "c")!.notes, [])
        XCTAssertEqual(shape(exact, "c"), [2, 4, 4])
        // (8 − 3 + 2·1)/2 + 1 = 4.5, but what the last window skips is padding: no note.
        let padded = try build(#"{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "stride": 2, "padding": 1}"#,
                               input: "[1, 8, 8]", extra: "\"strict_shapes\": true,")
        XCTAssertEqual(padded.node(named: "c")!.notes, [])
        XCTAssertEqual(shape(padded, "c"), [2, 4, 4])
    }

    // MARK: - Sequential chains and names

    func testDefaultNamesAndShapes() throws {
        let g = try build(#"""
            {"type": "conv2d", "filters": 4, "kernel": 3},
            {"type": "relu"},
            {"type": "maxpool2d", "kernel": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 10}
            """#)
        XCTAssertEqual(names(g), ["conv2d_0", "relu_1", "maxpool2d_2", "flatten_3", "dense_4"])
        XCTAssertEqual(g.nodes.map { $0.layer.outputShape.dims }, [[4, 6, 6], [4, 6, 6], [4, 3, 3], [36], [10]])
        XCTAssertEqual(g.nodes.map(\.inputs), [[Node.modelInput], [0], [1], [2], [3]])
        XCTAssertEqual(g.outputs, [4])
        XCTAssertEqual(g.name, "m")
        XCTAssertEqual(g.inputShape, [3, 8, 8])
        XCTAssertEqual(g.parameters.map(\.name), ["conv2d_0.weight", "conv2d_0.bias", "dense_4.weight", "dense_4.bias"])
        XCTAssertEqual(params(g, "conv2d_0"), 4 * 3 * 9 + 4)
        XCTAssertEqual(params(g, "dense_4"), 36 * 10 + 10)
        XCTAssertTrue(g.nodes.allSatisfy { $0.blocks.isEmpty && $0.notes.isEmpty })
    }

    func testActivationSugarNodeNames() throws {
        let g = try build(#"""
            {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
            {"type": "conv2d", "filters": 4, "kernel": 1, "activation": "tanh"}
            """#)
        XCTAssertEqual(names(g), ["c1", "c1_relu", "conv2d_1", "conv2d_1_tanh"])
        XCTAssertEqual(g.nodes.map(\.layer.type), ["conv2d", "relu", "conv2d", "tanh"])
        XCTAssertEqual(inputs(g, "conv2d_1"), ["c1_relu"])
        XCTAssertEqual(shape(g, "c1_relu"), [4, 8, 8])
    }

    func testInputsReferToEarlierNodesAndModelInput() throws {
        let g = try build(#"""
            {"type": "conv2d", "name": "a", "filters": 3, "kernel": 3, "padding": 1},
            {"type": "conv2d", "name": "b", "filters": 3, "kernel": 1, "inputs": "input"},
            {"type": "add", "name": "sum", "inputs": ["a", "b", "input"]},
            {"type": "concat", "name": "cat", "inputs": ["sum", "a"]},
            {"type": "relu", "name": "r"}
            """#)
        XCTAssertEqual(inputs(g, "a"), ["input"])
        XCTAssertEqual(inputs(g, "b"), ["input"])
        XCTAssertEqual(inputs(g, "sum"), ["a", "b", "input"])
        XCTAssertEqual(inputs(g, "cat"), ["sum", "a"])
        XCTAssertEqual(inputs(g, "r"), ["cat"])
        XCTAssertEqual(shape(g, "cat"), [6, 8, 8])
        XCTAssertEqual(g.outputs, [index(g, "r")])
    }

    func testExplicitOutputs() throws {
        let g = try build(#"""
            {"type": "conv2d", "name": "a", "filters": 3, "kernel": 3},
            {"type": "global_avgpool", "name": "p"}
            """#, extra: #""outputs": ["p", "a"],"#)
        XCTAssertEqual(g.outputs, [1, 0])
        XCTAssertEqual(error(#"{"type": "conv2d", "name": "a", "filters": 3, "kernel": 3}"#, extra: #""outputs": ["b"],"#),
                       "m.json: model.outputs[0]: no node named \"b\" (did you mean \"a\"?) "
                       + "(nodes are named by \"name\"; an input must come earlier in the file)")
    }

    func testSequentialPrefixesNames() throws {
        let g = try build(#"""
            {"type": "conv2d", "name": "stem", "filters": 4, "kernel": 3, "padding": 1},
            {"type": "sequential", "name": "head", "activation": "sigmoid", "layers": [
                {"type": "global_avgpool", "name": "pool"},
                {"type": "dense", "name": "fc", "units": 5},
                {"type": "relu"},
                {"type": "dense", "name": "out", "units": 3, "inputs": "fc"}
            ]}
            """#)
        XCTAssertEqual(names(g), ["stem", "head.pool", "head.fc", "head.relu_2", "head.out", "head_sigmoid"])
        XCTAssertEqual(inputs(g, "head.pool"), ["stem"])
        XCTAssertEqual(inputs(g, "head.out"), ["head.fc"])
        XCTAssertEqual(shape(g, "head.pool"), [4])
        XCTAssertEqual(shape(g, "head_sigmoid"), [3])
        let frame = BlockFrame(name: "head", type: "sequential")
        XCTAssertEqual(g.node(named: "head.fc")!.blocks, [frame])
        XCTAssertEqual(g.node(named: "head_sigmoid")!.blocks, [])
        XCTAssertEqual(g.node(named: "stem")!.blocks, [])
    }

    // MARK: - Repeat

    func testRepeatNamingFirstAndOverrides() throws {
        let g = try build(#"""
            {"type": "repeat", "name": "layer2", "count": 3,
             "body": {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
             "first": {"stride": 2},
             "overrides": [null, null, {"filters": 6}]}
            """#)
        XCTAssertEqual(names(g), ["layer2.0", "layer2.1", "layer2.2"])
        XCTAssertEqual(g.nodes.map { $0.layer.outputShape.dims }, [[4, 4, 4], [4, 4, 4], [6, 4, 4]])
        XCTAssertEqual(inputs(g, "layer2.1"), ["layer2.0"])
        XCTAssertEqual(inputs(g, "layer2.2"), ["layer2.1"])
        XCTAssertEqual(g.nodes[0].blocks, [BlockFrame(name: "layer2", type: "repeat")])

        XCTAssertEqual(error(#"{"type": "repeat", "name": "r", "count": 2, "overrides": [null], "body": {"type": "relu"}}"#),
                       "m.json: model.layers[0] (repeat \"r\").overrides: has 1 entries for 2 copies")
    }

    func testRepeatOfResidualBlocksHasNestedFrames() throws {
        let g = try build(#"""
            {"type": "repeat", "name": "layer1", "count": 2, "first": {"stride": 2},
             "body": {"type": "residual", "variant": "basic", "filters": 8, "activation": "relu"}}
            """#, input: "[4, 8, 8]")
        XCTAssertEqual(names(g), [
            "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu1", "layer1.0.conv2", "layer1.0.bn2",
            "layer1.0.downsample.0", "layer1.0.downsample.1", "layer1.0.add", "layer1.0_relu",
            "layer1.1.conv1", "layer1.1.bn1", "layer1.1.relu1", "layer1.1.conv2", "layer1.1.bn2",
            "layer1.1.add", "layer1.1_relu",
        ])
        let rep = BlockFrame(name: "layer1", type: "repeat")
        XCTAssertEqual(g.node(named: "layer1.0.conv1")!.blocks, [rep, BlockFrame(name: "layer1.0", type: "residual")])
        XCTAssertEqual(g.node(named: "layer1.1.add")!.blocks, [rep, BlockFrame(name: "layer1.1", type: "residual")])
        XCTAssertEqual(g.node(named: "layer1.0_relu")!.blocks, [rep])
        XCTAssertEqual(shape(g, "layer1.0.conv1"), [8, 4, 4])
        XCTAssertEqual(shape(g, "layer1.1_relu"), [8, 4, 4])
        XCTAssertEqual(inputs(g, "layer1.1.conv1"), ["layer1.0_relu"])
        XCTAssertEqual(inputs(g, "layer1.1.add"), ["layer1.1.bn2", "layer1.0_relu"])
    }

    // MARK: - Residual

    func testResidualBasicWithProjection() throws {
        let g = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 8, "stride": 2, "activation": "relu"}"#,
                          input: "[4, 8, 8]")
        XCTAssertEqual(names(g), ["r.conv1", "r.bn1", "r.relu1", "r.conv2", "r.bn2", "r.downsample.0",
                                  "r.downsample.1", "r.add", "r_relu"])
        XCTAssertEqual(g.nodes.map(\.layer.type), ["conv2d", "batchnorm", "relu", "conv2d", "batchnorm",
                                                   "conv2d", "batchnorm", "add", "relu"])
        XCTAssertEqual(shape(g, "r.conv1"), [8, 4, 4])
        XCTAssertEqual(shape(g, "r.downsample.0"), [8, 4, 4])
        XCTAssertEqual(inputs(g, "r.downsample.0"), ["input"])
        XCTAssertEqual(inputs(g, "r.add"), ["r.bn2", "r.downsample.1"])
        // Convolutions followed by a norm have no bias.
        XCTAssertEqual(params(g, "r.conv1"), 8 * 4 * 9)
        XCTAssertEqual(params(g, "r.conv2"), 8 * 8 * 9)
        XCTAssertEqual(params(g, "r.downsample.0"), 8 * 4)
        XCTAssertEqual(params(g, "r.bn1"), 4 * 8)
        XCTAssertEqual(trainable(g), 288 + 16 + 576 + 16 + 32 + 16)
        let w = g.node(named: "r.downsample.0")!.layer.window!
        XCTAssertEqual([w.kernelH, w.strideH, w.padTop], [1, 2, 0])
        let c1 = g.node(named: "r.conv1")!.layer.window!
        XCTAssertEqual([c1.kernelH, c1.strideH, c1.padTop], [3, 2, 1])
    }

    func testResidualAutoIsIdentityWhenShapesMatch() throws {
        let g = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 4}"#, input: "[4, 8, 8]")
        XCTAssertEqual(names(g), ["r.conv1", "r.bn1", "r.relu1", "r.conv2", "r.bn2", "r.add"])
        XCTAssertEqual(inputs(g, "r.add"), ["r.bn2", "input"])
        XCTAssertEqual(shape(g, "r.add"), [4, 8, 8])
        // "projection" forces the 1x1 even when shapes match.
        let p = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 4, "shortcut": "projection"}"#,
                          input: "[4, 8, 8]")
        XCTAssertEqual(inputs(p, "r.add"), ["r.bn2", "r.downsample.1"])
        XCTAssertEqual(params(p, "r.downsample.0"), 16)
    }

    func testResidualBottleneck() throws {
        let g = try build(#"{"type": "residual", "name": "b", "variant": "bottleneck", "filters": 4, "stride": 2}"#,
                          input: "[8, 8, 8]")
        XCTAssertEqual(names(g), ["b.conv1", "b.bn1", "b.relu1", "b.conv2", "b.bn2", "b.relu2", "b.conv3", "b.bn3",
                                  "b.downsample.0", "b.downsample.1", "b.add"])
        XCTAssertEqual(shape(g, "b.conv1"), [4, 8, 8])
        XCTAssertEqual(shape(g, "b.conv2"), [4, 4, 4]) // stride on the 3x3 (ResNet v1.5)
        XCTAssertEqual(shape(g, "b.conv3"), [16, 4, 4])
        XCTAssertEqual(shape(g, "b.add"), [16, 4, 4])
        XCTAssertEqual(params(g, "b.conv1"), 4 * 8)
        XCTAssertEqual(params(g, "b.conv2"), 4 * 4 * 9)
        XCTAssertEqual(params(g, "b.conv3"), 16 * 4)
        XCTAssertEqual(params(g, "b.downsample.0"), 16 * 8)

        let same = try build(#"{"type": "residual", "name": "b", "variant": "bottleneck", "filters": 4}"#, input: "[16, 8, 8]")
        XCTAssertNil(same.node(named: "b.downsample.0"))
        XCTAssertEqual(inputs(same, "b.add"), ["b.bn3", "input"])

        let wide = try build(#"{"type": "residual", "name": "b", "variant": "bottleneck", "filters": 4, "expansion": 2}"#,
                             input: "[8, 8, 8]")
        XCTAssertEqual(shape(wide, "b.add"), [8, 8, 8])
        XCTAssertEqual(inputs(wide, "b.add"), ["b.bn3", "input"])
    }

    func testResidualZeroPadShortcutHasNoParameters() throws {
        let g = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 8, "stride": 2, "shortcut": "zero_pad"}"#,
                          input: "[4, 8, 8]")
        XCTAssertEqual(names(g), ["r.conv1", "r.bn1", "r.relu1", "r.conv2", "r.bn2", "r.shortcut_subsample",
                                  "r.shortcut_pad", "r.add"])
        XCTAssertEqual(g.node(named: "r.shortcut_subsample")!.layer.type, "avgpool2d")
        XCTAssertEqual(g.node(named: "r.shortcut_pad")!.layer.type, "pad_channels")
        XCTAssertEqual(shape(g, "r.shortcut_subsample"), [4, 4, 4])
        XCTAssertEqual(shape(g, "r.shortcut_pad"), [8, 4, 4])
        XCTAssertEqual(params(g, "r.shortcut_subsample"), 0)
        XCTAssertEqual(params(g, "r.shortcut_pad"), 0)
        XCTAssertEqual(inputs(g, "r.add"), ["r.bn2", "r.shortcut_pad"])
        XCTAssertEqual(trainable(g), 288 + 16 + 576 + 16)

        // Same channels, stride 2: only the subsampling; more channels, stride 1: only the padding.
        let sub = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 4, "stride": 2, "shortcut": "zero_pad"}"#,
                            input: "[4, 8, 8]")
        XCTAssertEqual(inputs(sub, "r.add"), ["r.bn2", "r.shortcut_subsample"])
        XCTAssertNil(sub.node(named: "r.shortcut_pad"))
        let pad = try build(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 8, "shortcut": "zero_pad"}"#,
                            input: "[4, 8, 8]")
        XCTAssertEqual(inputs(pad, "r.add"), ["r.bn2", "r.shortcut_pad"])
        XCTAssertNil(pad.node(named: "r.shortcut_subsample"))
    }

    func testResidualExplicitBody() throws {
        let g = try build(#"""
            {"type": "residual", "name": "r", "body": [
                {"type": "conv2d", "name": "a", "filters": 3, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "conv2d", "name": "b", "filters": 3, "kernel": 3, "padding": 1}
            ]}
            """#)
        XCTAssertEqual(names(g), ["r.a", "r.a_relu", "r.b", "r.add"])
        XCTAssertEqual(inputs(g, "r.add"), ["r.b", "input"])
        XCTAssertEqual(error(#"{"type": "residual", "name": "r", "filters": 3, "body": [{"type": "relu"}]}"#),
                       "m.json: model.layers[0] (residual \"r\").filters: only applies to a \"variant\" preset, not to an explicit body")
    }

    func testGroupedBottleneckKeys() throws {
        XCTAssertEqual(error(#"{"type": "residual", "name": "r", "variant": "basic", "filters": 4, "groups": 2}"#),
                       "m.json: model.layers[0] (residual \"r\").groups: applies to the bottleneck variant "
                        + "(torchvision's BasicBlock has neither)")
        XCTAssertEqual(error(#"{"type": "residual", "name": "r", "variant": "bottleneck", "filters": 4, "groups": 0}"#),
                       "m.json: model.layers[0] (residual \"r\").groups: must be ≥ 1")
    }

    // MARK: - Inception

    func testInceptionShorthand() throws {
        let g = try build(#"""
            {"type": "inception", "name": "inc", "ch1x1": 4, "ch3x3red": 2, "ch3x3": 6, "ch5x5red": 2, "ch5x5": 3, "pool_proj": 5}
            """#, input: "[8, 8, 8]")
        XCTAssertEqual(shape(g, "inc.concat"), [4 + 6 + 3 + 5, 8, 8])
        XCTAssertEqual(inputs(g, "inc.concat"), ["inc.branch1.act", "inc.branch2.1.act", "inc.branch3.1.act", "inc.branch4.1.act"])
        XCTAssertEqual(inputs(g, "inc.branch2.1.conv"), ["inc.branch2.0.act"])
        XCTAssertEqual(inputs(g, "inc.branch4.0"), ["input"])
        XCTAssertEqual(g.node(named: "inc.branch4.0")!.layer.type, "maxpool2d")
        XCTAssertEqual(shape(g, "inc.branch3.1.conv"), [3, 8, 8])
        XCTAssertEqual(g.node(named: "inc.branch3.1.conv")!.layer.window!.kernelH, 5)
        XCTAssertEqual(params(g, "inc.branch2.1.conv"), 6 * 2 * 9)
        XCTAssertEqual(params(g, "inc.branch1.bn"), 16)
        XCTAssertEqual(g.nodes.count, 1 * 3 + 2 * 3 + 2 * 3 + 1 + 3 + 1)
        XCTAssertTrue(g.nodes.allSatisfy { $0.blocks == [BlockFrame(name: "inc", type: "inception")] })

        let paper = try build(#"""
            {"type": "inception", "name": "inc", "ch1x1": 4, "ch3x3red": 2, "ch3x3": 6, "ch5x5red": 2, "ch5x5": 3, "pool_proj": 5, "conv": "conv_relu", "kernel5": 3}
            """#, input: "[8, 8, 8]")
        XCTAssertNil(paper.node(named: "inc.branch1.bn"))
        XCTAssertEqual(params(paper, "inc.branch1.conv"), 4 * 8 + 4)
        XCTAssertEqual(paper.node(named: "inc.branch3.1.conv")!.layer.window!.kernelH, 3)
        XCTAssertEqual(inputs(paper, "inc.concat"), ["inc.branch1.act", "inc.branch2.1.act", "inc.branch3.1.act", "inc.branch4.1.act"])
    }

    func testInceptionExplicitBranches() throws {
        let g = try build(#"""
            {"type": "inception", "name": "inc", "branches": [
                [{"type": "conv2d", "name": "a", "filters": 3, "kernel": 1}],
                [{"type": "conv2d", "name": "b", "filters": 5, "kernel": 3, "padding": 1}, {"type": "relu"}]
            ]}
            """#)
        XCTAssertEqual(names(g), ["inc.branch1.a", "inc.branch2.b", "inc.branch2.relu_1", "inc.concat"])
        XCTAssertEqual(inputs(g, "inc.branch1.a"), ["input"])
        XCTAssertEqual(inputs(g, "inc.branch2.b"), ["input"])
        XCTAssertEqual(inputs(g, "inc.concat"), ["inc.branch1.a", "inc.branch2.relu_1"])
        XCTAssertEqual(shape(g, "inc.concat"), [8, 8, 8])
        XCTAssertEqual(error(#"{"type": "inception", "name": "inc", "ch1x1": 2, "branches": [[{"type": "relu"}]]}"#),
                       "m.json: model.layers[0] (inception \"inc\").ch1x1: explicit \"branches\" take no other keys")
    }

    // MARK: - Separable, SE, MBConv

    func testSeparableConv2D() throws {
        let g = try build(#"{"type": "separable_conv2d", "name": "s", "filters": 6, "kernel": 3, "padding": 1}"#,
                          input: "[4, 8, 8]")
        XCTAssertEqual(names(g), ["s.depthwise", "s.pointwise"])
        XCTAssertEqual(shape(g, "s.depthwise"), [4, 8, 8])
        XCTAssertEqual(shape(g, "s.pointwise"), [6, 8, 8])
        // C·k·k + C·F + F
        XCTAssertEqual(params(g, "s.depthwise") + params(g, "s.pointwise"), 4 * 9 + 4 * 6 + 6)
        XCTAssertEqual(g.parameters.map(\.name), ["s.depthwise.weight", "s.pointwise.weight", "s.pointwise.bias"])

        let noBias = try build(#"{"type": "separable_conv2d", "name": "s", "filters": 6, "kernel": 3, "stride": 2, "padding": 1, "bias": false}"#,
                               input: "[4, 8, 8]")
        XCTAssertEqual(trainable(noBias), 4 * 9 + 4 * 6)
        XCTAssertEqual(shape(noBias, "s.pointwise"), [6, 4, 4])

        let multiplier = try build(#"{"type": "separable_conv2d", "name": "s", "filters": 6, "kernel": 3, "depth_multiplier": 2}"#,
                                   input: "[4, 8, 8]")
        XCTAssertEqual(shape(multiplier, "s.depthwise"), [8, 6, 6])
        XCTAssertEqual(trainable(multiplier), 8 * 9 + 8 * 6 + 6)
    }

    /// A block decodes its keys as typed values, so a bad one is blamed on the block's key; what
    /// only the generated layer can check names both the block entry and that layer.
    func testBlockErrorsNameTheEntryAndTheGeneratedLayer() {
        let kernel = error(#"{"type": "separable_conv2d", "name": "s", "filters": 6, "kernel": "x"}"#)
        let expected = #"(separable_conv2d "s").kernel: expected an integer or [height, width], got a string"#
        XCTAssertTrue(kernel.hasSuffix(expected), kernel)
        let range = error(#"{"type": "separable_conv2d", "name": "s", "filters": 6, "kernel": 0}"#)
        let generated = #"(separable_conv2d "s") → conv2d "s.depthwise".kernel: must be in 1...1024, got 0"#
        XCTAssertTrue(range.hasSuffix(generated), range)
    }

    func testSqueezeExcitation() throws {
        let g = try build(#"{"type": "squeeze_excitation", "name": "se"}"#, input: "[32, 4, 4]")
        XCTAssertEqual(names(g), ["se.pool", "se.fc1", "se.fc1_relu", "se.fc2", "se.gate", "se.scale"])
        XCTAssertEqual(shape(g, "se.pool"), [32, 1, 1])
        XCTAssertEqual(shape(g, "se.fc1"), [2, 1, 1]) // 32 / 16
        XCTAssertEqual(shape(g, "se.fc2"), [32, 1, 1])
        XCTAssertEqual(shape(g, "se.scale"), [32, 4, 4])
        XCTAssertEqual(g.node(named: "se.gate")!.layer.type, "sigmoid")
        XCTAssertEqual(inputs(g, "se.scale"), ["input", "se.gate"])
        XCTAssertEqual(params(g, "se.fc1"), 32 * 2 + 2)
        XCTAssertEqual(params(g, "se.fc2"), 2 * 32 + 32)

        let r4 = try build(#"{"type": "squeeze_excitation", "name": "se", "reduction": 4, "inner": "silu", "gate": "hard_sigmoid"}"#,
                           input: "[32, 4, 4]")
        XCTAssertEqual(shape(r4, "se.fc1"), [8, 1, 1])
        XCTAssertEqual(r4.node(named: "se.fc1_silu")!.layer.type, "silu")
        XCTAssertEqual(r4.node(named: "se.gate")!.layer.type, "hard_sigmoid")

        let explicit = try build(#"{"type": "squeeze_excitation", "name": "se", "squeeze": 5}"#, input: "[32, 4, 4]")
        XCTAssertEqual(shape(explicit, "se.fc1"), [5, 1, 1])
        // Never narrower than one channel.
        let narrow = try build(#"{"type": "squeeze_excitation", "name": "se"}"#, input: "[8, 4, 4]")
        XCTAssertEqual(shape(narrow, "se.fc1"), [1, 1, 1])
        XCTAssertEqual(error(#"{"type": "squeeze_excitation", "name": "se", "squeeze": 4, "reduction": 4}"#),
                       "m.json: model.layers[0] (squeeze_excitation \"se\").reduction: give \"squeeze\" or \"reduction\", not both")
    }

    func testMBConvSkipOnlyWithStrideOneAndSameChannels() throws {
        let g = try build(#"{"type": "mbconv", "name": "mb", "filters": 16, "expand": 6}"#, input: "[16, 8, 8]")
        XCTAssertEqual(names(g), ["mb.expand.conv", "mb.expand.bn", "mb.expand.act",
                                  "mb.depthwise.conv", "mb.depthwise.bn", "mb.depthwise.act",
                                  "mb.project.conv", "mb.project.bn", "mb.add"])
        XCTAssertEqual(shape(g, "mb.expand.conv"), [96, 8, 8])
        XCTAssertEqual(g.node(named: "mb.expand.act")!.layer.type, "silu")
        XCTAssertEqual(params(g, "mb.depthwise.conv"), 96 * 9)
        XCTAssertEqual(params(g, "mb.expand.conv"), 96 * 16)
        XCTAssertEqual(params(g, "mb.project.conv"), 16 * 96)
        XCTAssertEqual(inputs(g, "mb.add"), ["mb.project.bn", "input"])

        let strided = try build(#"{"type": "mbconv", "name": "mb", "filters": 16, "stride": 2}"#, input: "[16, 8, 8]")
        XCTAssertNil(strided.node(named: "mb.add"))
        XCTAssertEqual(shape(strided, "mb.project.bn"), [16, 4, 4])
        XCTAssertEqual(strided.outputs, [index(strided, "mb.project.bn")])

        let wider = try build(#"{"type": "mbconv", "name": "mb", "filters": 24}"#, input: "[16, 8, 8]")
        XCTAssertNil(wider.node(named: "mb.add"))
        let noSkip = try build(#"{"type": "mbconv", "name": "mb", "filters": 16, "skip": false}"#, input: "[16, 8, 8]")
        XCTAssertNil(noSkip.node(named: "mb.add"))
    }

    func testMBConvExpandOneAndSEWidth() throws {
        let g = try build(#"{"type": "mbconv", "name": "mb", "filters": 8, "expand": 1, "se": 0.25, "nonlinearity": "relu6", "kernel": 5}"#,
                          input: "[16, 8, 8]")
        XCTAssertNil(g.node(named: "mb.expand.conv"))
        XCTAssertEqual(names(g), ["mb.depthwise.conv", "mb.depthwise.bn", "mb.depthwise.act",
                                  "mb.se.pool", "mb.se.fc1", "mb.se.fc1_relu6", "mb.se.fc2", "mb.se.gate", "mb.se.scale",
                                  "mb.project.conv", "mb.project.bn"])
        XCTAssertEqual(shape(g, "mb.se.fc1"), [4, 1, 1]) // floor(16 · 0.25)
        XCTAssertEqual(shape(g, "mb.se.fc2"), [16, 1, 1])
        XCTAssertEqual(g.node(named: "mb.depthwise.conv")!.layer.window!.kernelH, 5)
        XCTAssertEqual(g.node(named: "mb.se.fc1")!.blocks,
                       [BlockFrame(name: "mb", type: "mbconv"), BlockFrame(name: "mb.se", type: "squeeze_excitation")])
        XCTAssertEqual(g.node(named: "mb.project.conv")!.blocks, [BlockFrame(name: "mb", type: "mbconv")])

        // SE width uses the block's input channels (not the expanded ones), floored, at least 1.
        let expanded = try build(#"{"type": "mbconv", "name": "mb", "filters": 6, "expand": 4, "se": 0.3}"#, input: "[6, 4, 4]")
        XCTAssertEqual(shape(expanded, "mb.se.fc1"), [1, 1, 1]) // floor(1.8)
        XCTAssertEqual(shape(expanded, "mb.se.fc2"), [24, 1, 1])
        let tiny = try build(#"{"type": "mbconv", "name": "mb", "filters": 6, "se": 0.1}"#, input: "[6, 4, 4]")
        XCTAssertEqual(shape(tiny, "mb.se.fc1"), [1, 1, 1]) // max(1, floor(0.6))
        XCTAssertEqual(error(#"{"type": "mbconv", "name": "mb", "filters": 8, "kernel": 4}"#, input: "[8, 4, 4]"),
                       "m.json: model.layers[0] (mbconv \"mb\").kernel: must be an odd size ≥ 1 (padding is kernel/2), got 4")
    }

    func testFusedMBConv() throws {
        let g = try build(#"{"type": "fused_mbconv", "name": "f", "filters": 16}"#, input: "[16, 8, 8]")
        XCTAssertEqual(names(g), ["f.fused.conv", "f.fused.bn", "f.fused.act", "f.project.conv", "f.project.bn", "f.add"])
        XCTAssertEqual(shape(g, "f.fused.conv"), [64, 8, 8]) // default expansion 4
        XCTAssertEqual(params(g, "f.fused.conv"), 64 * 16 * 9)
        XCTAssertEqual(params(g, "f.project.conv"), 16 * 64)
        XCTAssertEqual(inputs(g, "f.add"), ["f.project.bn", "input"])

        let single = try build(#"{"type": "fused_mbconv", "name": "f", "filters": 24, "expand": 1, "stride": 2}"#,
                               input: "[16, 8, 8]")
        XCTAssertEqual(names(single), ["f.fused.conv", "f.fused.bn", "f.fused.act"])
        XCTAssertEqual(shape(single, "f.fused.act"), [24, 4, 4])
        XCTAssertEqual(params(single, "f.fused.conv"), 24 * 16 * 9)

        let se = try build(#"{"type": "fused_mbconv", "name": "f", "filters": 8, "expand": 2, "se": 0.25, "stride": 2}"#,
                           input: "[8, 8, 8]")
        XCTAssertEqual(names(se), ["f.fused.conv", "f.fused.bn", "f.fused.act",
                                   "f.se.pool", "f.se.fc1", "f.se.fc1_silu", "f.se.fc2", "f.se.gate", "f.se.scale",
                                   "f.project.conv", "f.project.bn"])
        XCTAssertEqual(shape(se, "f.se.fc1"), [2, 1, 1])
        XCTAssertEqual(shape(se, "f.se.fc2"), [16, 1, 1])
        XCTAssertEqual(shape(se, "f.project.bn"), [8, 4, 4])
    }
}
