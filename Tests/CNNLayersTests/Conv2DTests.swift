import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

/// A convolution described independently of the layer: its JSON config and a naive reference.
private struct ConvCase {
    var channels: Int, height: Int, width: Int, filters: Int
    var kernel: (h: Int, w: Int), stride: (h: Int, w: Int)
    var pad: (top: Int, bottom: Int, left: Int, right: Int)
    var dilation: (h: Int, w: Int)
    var groups: Int, bias: Bool, mode: PaddingMode

    /// Input `[c, h, w]`, `f` filters; `p` is (top, bottom, left, right).
    init(_ c: Int, _ h: Int, _ w: Int, f: Int, k: (Int, Int), s: (Int, Int) = (1, 1),
         p: (Int, Int, Int, Int) = (0, 0, 0, 0), d: (Int, Int) = (1, 1), groups: Int = 1,
         bias: Bool = true, mode: PaddingMode = .zeros) {
        (channels, height, width, filters) = (c, h, w, f)
        (kernel, stride, pad, dilation) = (k, s, p, d)
        (self.groups, self.bias, self.mode) = (groups, bias, mode)
    }

    var input: Shape { [channels, height, width] }
    var outHeight: Int {
        (height + pad.top + pad.bottom - dilation.h * (kernel.h - 1) - 1) / stride.h + 1
    }
    var outWidth: Int {
        (width + pad.left + pad.right - dilation.w * (kernel.w - 1) - 1) / stride.w + 1
    }
    var config: JSONValue {
        ["filters": .int(filters), "kernel": [.int(kernel.h), .int(kernel.w)],
         "stride": [.int(stride.h), .int(stride.w)],
         "padding": [.int(pad.top), .int(pad.bottom), .int(pad.left), .int(pad.right)],
         "dilation": [.int(dilation.h), .int(dilation.w)], "groups": .int(groups),
         "bias": .bool(bias), "padding_mode": .string(mode.rawValue)]
    }

    /// The 7-loop definition of this convolution (CNNTestSupport).
    var reference: ReferenceConvolution {
        ReferenceConvolution(channels: channels, height: height, width: width, filters: filters, kernel: kernel,
                             stride: stride, padding: pad, dilation: dilation, groups: groups, mode: mode)
    }

    /// `weight(f, c, i, j)` is nil where filter f does not see map c.
    func naive(_ x: Tensor, bias b: Tensor?, weight: (Int, Int, Int, Int) -> Float?) -> [Double] {
        reference.forward(x, bias: b, weight: weight)
    }

    /// Dense grouped weights `[F, C/groups, kh, kw]`.
    func naive(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> [Double] { reference.forward(x, weight: w, bias: b) }
}

private func random(_ shape: Shape, seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor(shape: shape, values: (0..<shape.count).map { _ in rng.uniform(bound: 1) })
}

final class Conv2DTests: XCTestCase {
    private let cases: [(String, ConvCase)] = {
        var list: [(String, ConvCase)] = [
            ("3x3 pad 1", ConvCase(3, 5, 6, f: 4, k: (3, 3), p: (1, 1, 1, 1))),
            ("pointwise", ConvCase(4, 5, 7, f: 6, k: (1, 1))),
            ("pointwise groups 2", ConvCase(4, 3, 5, f: 6, k: (1, 1), groups: 2, bias: false)),
            ("pointwise over 1x1", ConvCase(6, 1, 1, f: 4, k: (1, 1))),
            ("1x1 stride 2", ConvCase(3, 5, 6, f: 2, k: (1, 1), s: (2, 2))),
            ("1x1 padded", ConvCase(2, 5, 4, f: 3, k: (1, 1), p: (0, 1, 2, 0), mode: .replicate)),
            ("1x3", ConvCase(2, 4, 7, f: 3, k: (1, 3), p: (0, 0, 1, 1))),
            ("3x1", ConvCase(2, 7, 4, f: 3, k: (3, 1), p: (1, 1, 0, 0), mode: .reflect)),
            ("groups 2", ConvCase(4, 5, 5, f: 6, k: (3, 3), p: (1, 1, 1, 1), groups: 2)),
            ("depthwise", ConvCase(3, 6, 5, f: 3, k: (3, 3), p: (1, 1, 1, 1), groups: 3,
                                   mode: .reflect)),
            ("depthwise x2 stride 2", ConvCase(3, 7, 6, f: 6, k: (3, 3), s: (2, 2), p: (1, 0, 2, 1),
                                               groups: 3, mode: .replicate)),
            ("depthwise dilated", ConvCase(2, 6, 7, f: 4, k: (3, 2), p: (2, 2, 1, 2), d: (2, 2),
                                           groups: 2, bias: false, mode: .circular)),
            ("dilation 2", ConvCase(2, 7, 8, f: 3, k: (3, 3), p: (2, 2, 2, 2), d: (2, 2),
                                    mode: .symmetric)),
            ("stride 2 odd", ConvCase(3, 9, 7, f: 2, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1),
                                      bias: false, mode: .circular)),
            ("pad wider than image", ConvCase(1, 2, 3, f: 2, k: (2, 3), p: (3, 2, 4, 3),
                                              mode: .symmetric)),
            // Shapes for the direct kernels' edges: filters past a block of 8, kernel widths
            // past a tap group of 3, uneven padding, rows longer than a 48-float block.
            ("direct 11 filters 5x5", ConvCase(3, 9, 11, f: 11, k: (5, 5), p: (2, 1, 0, 2))),
            ("direct 3x2", ConvCase(5, 6, 4, f: 9, k: (3, 2), p: (0, 2, 1, 0), bias: false)),
            ("direct one channel", ConvCase(1, 8, 8, f: 6, k: (5, 5), p: (2, 2, 2, 2))),
            ("direct wide rows", ConvCase(2, 3, 40, f: 17, k: (3, 3), p: (1, 1, 1, 1))),
            // "Same" convolutions, whose input gradient reads the spread dY in place, with uneven
            // padding.
            ("direct same 3x2", ConvCase(3, 5, 7, f: 9, k: (3, 2), p: (1, 1, 1, 0))),
            ("direct same corner", ConvCase(2, 6, 5, f: 4, k: (3, 3), p: (0, 2, 2, 0))),
            // Depthwise on padded planes: a row of 9 vectors (one 6-vector block, one 3-vector
            // block overrunning the stage row), and uneven padding.
            ("direct depthwise 5x5", ConvCase(3, 6, 20, f: 3, k: (5, 5), p: (2, 2, 2, 2), groups: 3, bias: false)),
            ("direct depthwise", ConvCase(4, 7, 9, f: 4, k: (3, 3), p: (1, 0, 2, 1), groups: 4)),
            // Stride-2 depthwise through the input's phases: odd and even sizes, uneven padding,
            // a 5x5 kernel whose taps span three phase rows, rows past one 6-vector block, and
            // rows split sixteen columns at a time after odd and even left paddings.
            ("phase depthwise", ConvCase(3, 9, 10, f: 3, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1), groups: 3)),
            ("phase depthwise 5x5", ConvCase(2, 11, 8, f: 2, k: (5, 5), s: (2, 2), p: (2, 1, 0, 2), groups: 2,
                                             bias: false)),
            ("phase depthwise wide", ConvCase(2, 9, 70, f: 2, k: (3, 3), s: (2, 2), p: (0, 1, 1, 0), groups: 2)),
            ("phase depthwise wide even", ConvCase(2, 7, 66, f: 2, k: (5, 5), s: (2, 2), p: (2, 2, 2, 2), groups: 2)),
            // Stride 2 on the padded input's phases: filters past a block of 8, kernels of odd and
            // even size, uneven padding, rows split and joined 16 or 8 columns at a time, and a 1x3
            // kernel (phase row 1 has no taps).
            ("direct stride 2", ConvCase(3, 9, 10, f: 11, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1))),
            ("direct stride 2 5x5", ConvCase(2, 11, 8, f: 9, k: (5, 5), s: (2, 2), p: (2, 1, 0, 2), bias: false)),
            ("direct stride 2 4x4", ConvCase(3, 8, 8, f: 5, k: (4, 4), s: (2, 2), p: (1, 1, 1, 1))),
            ("direct stride 2 wide", ConvCase(2, 5, 70, f: 3, k: (3, 2), s: (2, 2), p: (0, 1, 1, 0))),
            ("direct stride 2 1x3", ConvCase(2, 7, 9, f: 4, k: (1, 3), s: (2, 2), p: (0, 0, 1, 1))),
            ("direct stride 2 narrow", ConvCase(3, 6, 20, f: 8, k: (3, 3), s: (2, 2), p: (1, 1, 1, 1))),
            ("direct stride 2 wide padding", ConvCase(2, 5, 6, f: 3, k: (3, 3), s: (2, 2), p: (3, 2, 4, 3))),
            // Winograd F(2x2, 3x3): 64 channels and filters (enough on every CPU), an odd output
            // side, uneven padding up to 2, and a filter count that is no multiple of 8.
            ("winograd", ConvCase(64, 4, 3, f: 64, k: (3, 3), p: (1, 1, 1, 1))),
            ("winograd uneven padding", ConvCase(64, 3, 4, f: 65, k: (3, 3), p: (2, 0, 1, 2), bias: false)),
        ]
        for mode in PaddingMode.allCases {
            list.append(("mode \(mode)", ConvCase(2, 7, 5, f: 3, k: (3, 2), s: (2, 1),
                                                  p: (2, 1, 1, 2), d: (1, 2), mode: mode)))
        }
        return list
    }()

    /// Winograd layers run it from the first image here (the tests' batches are small).
    private func build(_ config: JSONValue, _ input: Shape) throws -> Conv2D {
        let layer = try XCTUnwrap(GradientCheck.build(Conv2D.registration, config: config, inputs: [input]) as? Conv2D)
        layer.minimumBatch = 1
        return layer
    }

    /// The build error's description, or nil when the layer builds.
    private func buildError(_ config: JSONValue, _ input: Shape) -> String? {
        do {
            _ = try GradientCheck.build(Conv2D.registration, config: config, inputs: [input])
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func parameters(_ layer: Conv2D, seed: UInt64) -> [Tensor] {
        layer.parameterSpecs.enumerated().map { random($1.shape, seed: seed + UInt64($0)) }
    }

    func testRegistrationExample() throws {
        XCTAssertEqual(try GradientCheck.check(Conv2D.registration), [])
    }

    func testForwardMatchesNaiveConvolution() throws {
        for (k, (label, c)) in cases.enumerated() {
            let layer = try build(c.config, c.input)
            XCTAssertEqual(layer.outputShape, [c.filters, c.outHeight, c.outWidth], label)
            let x = random(c.input.batched(2), seed: UInt64(k))
            let p = parameters(layer, seed: 50 + UInt64(k))
            let y = GradientCheck.forward(layer, inputs: [x], parameters: p)
            assertClose(y, c.naive(x, p[0], c.bias ? p[1] : nil), within: .relative(1e-4), label)
        }
    }

    /// Winograd cases step by 0.5: a convolution is linear in each argument, so central
    /// differences are exact at any step, and F(4×4, 3×3)'s rounding (about 1e-6 of the terms)
    /// divided by a step of 0.01 would swamp them.
    func testGradients() throws {
        for (label, c) in cases {
            let layer = try build(c.config, c.input)
            XCTAssertEqual(GradientCheck.check(layer, step: label.hasPrefix("winograd") ? 0.5 : 1e-2), [], label)
        }
    }

    /// The configs above reach the five algorithms: lowered (im2col + sgemm), pointwise,
    /// depthwise, Winograd (with the direct or lowered algorithm for small batches), and (on
    /// AVX-512) the direct kernels on padded planes (or their phases, stride 2) for zero-padded
    /// convolutions.
    func testKernelPaths() throws {
        let layers = try Dictionary(uniqueKeysWithValues: cases.map { ($0.0, try build($0.1.config, $0.1.input)) })
        func directAlgorithm(_ layer: Conv2D) -> DirectConvolution? {
            (layer.smallBatchAlgorithm ?? layer.algorithm) as? DirectConvolution
        }
        func depthwiseMultiplier(_ label: String) -> Int? {
            guard let layer = layers[label] else { return nil }
            if let direct = layer.algorithm as? DirectConvolution { return direct.depthwise ? 1 : nil }
            return (layer.algorithm as? DepthwiseConvolution)?.depthwise.multiplier
        }
        func isPointwise(_ label: String) -> Bool? { layers[label].map { $0.algorithm is PointwiseConvolution } }
        let direct = Set(layers.filter { directAlgorithm($0.value) != nil }.keys)
        let expected: Set<String> = CPUFeatures.avx512Kernels
            ? ["3x3 pad 1", "1x3", "direct 11 filters 5x5", "direct 3x2", "direct one channel", "direct wide rows",
               "direct same 3x2", "direct same corner",
               "direct depthwise 5x5", "direct depthwise", "direct stride 2", "direct stride 2 5x5",
               "direct stride 2 4x4", "direct stride 2 wide", "direct stride 2 1x3", "direct stride 2 narrow",
               "direct stride 2 wide padding", "winograd", "winograd uneven padding"] : []
        XCTAssertEqual(direct, expected)
        XCTAssertEqual(isPointwise("pointwise"), true)
        XCTAssertEqual(isPointwise("pointwise groups 2"), true)
        let overPlanes = try build(cases.first { $0.0 == "pointwise over 1x1" }!.1.config, [6, 1, 1])
        XCTAssertEqual((overPlanes.algorithm as? PointwiseConvolution)?.forwardsWholeBatch, true)
        XCTAssertEqual((layers["pointwise"]?.algorithm as? PointwiseConvolution)?.forwardsWholeBatch, false)
        XCTAssertEqual(isPointwise("1x1 stride 2"), false)
        XCTAssertEqual(isPointwise("1x1 padded"), false)
        XCTAssertEqual(isPointwise("3x3 pad 1"), false)
        XCTAssertNotNil(layers["groups 2"])
        XCTAssertNil(depthwiseMultiplier("groups 2"))
        XCTAssertEqual(depthwiseMultiplier("depthwise"), 1)
        XCTAssertEqual(depthwiseMultiplier("depthwise x2 stride 2"), 2)
        XCTAssertEqual(depthwiseMultiplier("depthwise dilated"), 2)
        XCTAssertEqual(depthwiseMultiplier("direct depthwise"), 1)
        XCTAssertEqual(layers["stride 2 odd"]?.algorithm.name, "lowered")
        let spread = Set(layers.filter { directAlgorithm($0.value)?.spreadShift != nil }.keys)
        XCTAssertEqual(spread, CPUFeatures.avx512Kernels
                       ? ["3x3 pad 1", "1x3", "direct 3x2", "direct one channel", "direct wide rows", "direct same 3x2",
                          "direct same corner", "direct depthwise 5x5", "winograd"] : [])
        let winograd = Set(layers.filter { $0.value.algorithm is WinogradConvolution }.keys)
        XCTAssertEqual(winograd, WinogradPlan.enabled ? ["winograd", "winograd uneven padding"] : [])
        // Below 8 images the layer takes the algorithm it would have taken without Winograd.
        let fresh = try XCTUnwrap(GradientCheck.build(Conv2D.registration, config: cases.first { $0.0 == "winograd" }!.1.config,
                                                      inputs: [[64, 4, 3]]) as? Conv2D)
        XCTAssertEqual(fresh.algorithmName(batch: 7), CPUFeatures.avx512Kernels ? "direct" : "lowered")
        XCTAssertEqual(fresh.algorithmName(batch: 8) == "winograd", WinogradPlan.enabled)
        let phases = Set(layers.filter { ($0.value.algorithm as? DepthwiseConvolution)?.phases != nil }.keys)
        XCTAssertEqual(phases, CPUFeatures.avx512Kernels
                       ? ["phase depthwise", "phase depthwise 5x5", "phase depthwise wide", "phase depthwise wide even"] : [])
    }

    /// Backward with no input gradient wanted gives the same parameter gradients, and a second
    /// backward adds the same amount again (no stale scratch state between calls).
    func testBackwardWithoutInputGradientAndRepeated() throws {
        let lenet: JSONValue = ["filters": 16, "kernel": 5, "connections": "lenet5_c3"]
        var configs: [(JSONValue, Shape)] = [(lenet, [6, 9, 8])]
        let paths = ["3x3 pad 1", "pointwise", "depthwise x2 stride 2"]
        for (label, c) in cases where paths.contains(label) {
            configs.append((c.config, c.input))
        }
        for (config, input) in configs {
            let layer = try build(config, input)
            let x = random(input.batched(2), seed: 3)
            let p = parameters(layer, seed: 4)
            let y = GradientCheck.forward(layer, inputs: [x], parameters: p)
            let dy = random(y.shape, seed: 5)
            func gradients(_ wantInput: Bool, times: Int) -> [[Float]] {
                let g = p.map { Tensor(shape: $0.shape) }
                layer.bind(parameters: p, gradients: g)
                let dx: Tensor? = wantInput ? Tensor(shape: x.shape) : nil
                let ws = Tensor(shape: [max(layer.workspaceSize(batch: 2), 1)])
                var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1),
                                               workspace: ws.data, workspaceCount: ws.count)
                for _ in 0..<times {
                    layer.backward(inputs: [x], output: y, outputGradient: dy, inputGradients: [dx],
                                   context: &context)
                }
                return g.map(\.array)
            }
            let once = gradients(true, times: 1)
            XCTAssertEqual(gradients(false, times: 1), once, "\(config)")
            for (a, b) in zip(once.joined(), gradients(true, times: 2).joined()) {
                XCTAssertEqual(2 * a, b, accuracy: 1e-4 * max(1, abs(b)), "\(config)")
            }
            XCTAssertEqual(GradientCheck.forward(layer, inputs: [x], parameters: p).array, y.array)
        }
    }

    // MARK: - Connection tables

    /// LeCun et al. 1998, Table I: for each S2 map (row), the C3 maps that read it.
    private let paperTable: [[Int]] = [
        [0, 4, 5, 6, 9, 10, 11, 12, 14, 15], [0, 1, 5, 6, 7, 10, 11, 12, 13, 15],
        [0, 1, 2, 6, 7, 8, 11, 13, 14, 15], [1, 2, 3, 6, 7, 8, 9, 12, 14, 15],
        [2, 3, 4, 7, 8, 9, 10, 12, 13, 15], [3, 4, 5, 8, 9, 10, 11, 13, 14, 15],
    ]

    func testLeNet5C3() throws {
        let config: JSONValue = ["filters": 16, "kernel": 5, "connections": "lenet5_c3"]
        let layer = try build(config, [6, 14, 14])
        XCTAssertEqual(layer.outputShape, [16, 10, 10])
        XCTAssertEqual(layer.parameterCount, 1_516)
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), [[60, 5, 5], [16]])
        XCTAssertEqual(layer.macs, 1_516 * 100)
        let table = try XCTUnwrap(layer.connected?.table)
        for f in 0..<16 {
            let paper = Set((0..<6).filter { paperTable[$0].contains(f) })
            XCTAssertEqual(Set(table[f]), paper, "map \(f)")
        }
        // Compact kernels are stored in the table's listed order.
        var offsets: [[Int: Int]] = Array(repeating: [:], count: 16), k = 0
        for (f, maps) in table.enumerated() { for c in maps { offsets[f][c] = k; k += 1 } }
        let c = ConvCase(6, 14, 14, f: 16, k: (5, 5))
        let x = random(c.input.batched(2), seed: 8)
        let p = parameters(layer, seed: 9)
        let y = GradientCheck.forward(layer, inputs: [x], parameters: p)
        assertClose(y, c.naive(x, bias: p[1]) { f, ch, i, j in
            offsets[f][ch].map { p[0].data[($0 * 5 + i) * 5 + j] }
        }, within: .relative(1e-4), "lenet5_c3")
        XCTAssertEqual(GradientCheck.check(layer, batch: 1, maxElements: 300), [])
    }

    func testExplicitTableOrder() throws {
        let table: [[Int]] = [[2, 0], [1], [0, 1, 2]]
        let config: JSONValue = ["filters": 3, "kernel": [2, 3], "padding": 1, "bias": false,
                                 "padding_mode": "reflect",
                                 "connections": .array(table.map { .array($0.map { .int($0) }) })]
        let layer = try build(config, [3, 4, 5])
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), [[6, 2, 3]])
        let c = ConvCase(3, 4, 5, f: 3, k: (2, 3), p: (1, 1, 1, 1), bias: false, mode: .reflect)
        let x = random(c.input.batched(2), seed: 10)
        let p = parameters(layer, seed: 11)
        let y = GradientCheck.forward(layer, inputs: [x], parameters: p)
        assertClose(y, c.naive(x, bias: nil) { f, ch, i, j in
            let prior = table[..<f].reduce(0) { $0 + $1.count }
            return table[f].firstIndex(of: ch).map { p[0].data[((prior + $0) * 2 + i) * 3 + j] }
        }, within: .relative(1e-4), "explicit table")
        XCTAssertEqual(GradientCheck.check(layer), [])
    }

    func testConnectionTableErrors() {
        let bad: [(JSONValue, String)] = [
            ([[0, 1], [1, 6]],
             "layer.connections[1]: entry 1 must list distinct input maps in 0..<6, got [1, 6]"),
            ([[0, 1], [1, 1]], "connections[1]"),
            ([[0, 1], []], "connections[1]"),
            ([[0, 1]], "but the layer has 2 filters"),
            ("lenet5_c2", "did you mean \"lenet5_c3\""),
            ([[0, 1], [1, 2.5]], "integers"),
        ]
        for (table, expected) in bad {
            expectError(["filters": 2, "kernel": 3, "connections": table], [6, 7, 7], expected)
        }
        expectError(["filters": 2, "kernel": 3, "groups": 2, "connections": [[0], [1]]], [2, 5, 5],
                    "layer.connections: cannot be combined with groups")
    }

    // MARK: - Shapes, counts and errors

    private func expectError(_ config: JSONValue, _ input: Shape, _ expected: String,
                             line: UInt = #line) {
        let error = buildError(config, input)
        XCTAssert(error?.contains(expected) == true, "\(error ?? "no error")", line: line)
    }

    func testConfigErrors() {
        expectError(["filters": 4, "kernel": 3, "groups": 2], [3, 5, 5],
                    "layer.groups: must divide both the input channels (3) and filters (4), got 2")
        expectError(["filters": 3, "kernel": 3, "groups": 2], [4, 5, 5], "layer.groups")
        expectError(["filters": 3, "kernel": 3, "groups": 0], [3, 5, 5], "layer.groups")
        expectError(["filters": 0, "kernel": 3], [3, 5, 5], "layer.filters: must be ≥ 1")
        expectError(["filters": 2, "kernel": 7, "padding": 1], [3, 4, 9],
                    "layer.kernel: height: (4 − 7 + 2·1)/1 + 1")
        expectError(["filters": 2, "kernel": 7, "padding": 1], [3, 4, 9],
                    "larger than the padded input (6)")
        XCTAssertNil(buildError(["filters": 2, "kernel": 6, "padding": 1], [3, 4, 9]))
        expectError(["filters": 2, "kernel": 3, "dilation": 3], [3, 6, 9], "7 (dilated)")
        expectError(["filters": 2, "kernel": 3, "padding_mode": "reflection"], [3, 6, 6],
                    "did you mean \"reflect\"")
        expectError(["filters": 2, "kernel": 3, "stride": 0], [3, 6, 6], "layer.stride")
        expectError(["filters": 2, "kernel": 3, "padding": -1], [3, 6, 6], "layer.padding")
        expectError(["filters": 2, "kernel": 3, "filter": 2], [3, 6, 6], "unknown key \"filter\"")
        expectError(["filters": 2, "kernel": 3], [6, 6], "rank-3")
    }

    func testInexactOutputSizeNoteAndStrictShapes() throws {
        let config: JSONValue = ["filters": 2, "kernel": 3, "stride": 2]
        var context = LayerBuildContext(name: "c", inputShapes: [[1, 10, 10]], config: config,
                                        path: "c", file: nil)
        let layer = try Conv2D.registration.build(&context)
        XCTAssertEqual(layer.outputShape, [2, 4, 4])
        XCTAssertEqual(context.notes.count, 2)
        XCTAssert(context.notes.allSatisfy { $0.contains("4.5") }, "\(context.notes)")
        var strict = LayerBuildContext(name: "c", inputShapes: [[1, 10, 10]], config: config,
                                       path: "c", file: nil, strictShapes: true)
        XCTAssertThrowsError(try Conv2D.registration.build(&strict)) {
            XCTAssert("\($0)".contains("strict_shapes"), "\($0)")
        }
        var exact = LayerBuildContext(name: "c", inputShapes: [[1, 11, 11]], config: config,
                                      path: "c", file: nil, strictShapes: true)
        XCTAssertEqual(try Conv2D.registration.build(&exact).outputShape, [2, 5, 5])
        XCTAssertEqual(exact.notes, [])
    }

    func testSamePadding() throws {
        for (kernel, dilation) in [(3, 1), (5, 1), (4, 1), (3, 2)] {
            let layer = try build(["filters": 2, "kernel": .int(kernel), "dilation": .int(dilation),
                                   "padding": "same"], [3, 7, 7])
            XCTAssertEqual(layer.outputShape, [2, 7, 7], "kernel \(kernel) dilation \(dilation)")
        }
        let even = try build(["filters": 2, "kernel": 4, "padding": "same"], [3, 7, 7])
        XCTAssertEqual([even.geometry.padTop, even.geometry.padBottom], [1, 2])
        XCTAssertEqual(GradientCheck.check(even), [])
    }

    func testParameterCountsAndMACs() throws {
        let conv = try build(["filters": 64, "kernel": 3, "padding": 1], [3, 32, 32])
        XCTAssertEqual(conv.outputShape, [64, 32, 32])
        XCTAssertEqual(conv.parameterCount, 1_792)
        XCTAssertEqual(conv.macs, 1_792 * 1_024)
        XCTAssertEqual(conv.parameterSpecs.map(\.name), ["weight", "bias"])
        let bound = 1 / Float(3 * 3 * 3).squareRoot()
        XCTAssertEqual(conv.parameterSpecs.map(\.initializer),
                       [.uniform(bound: bound), .uniform(bound: bound)])
        let noBias = try build(["filters": 64, "kernel": 3, "padding": 1, "bias": false],
                               [3, 32, 32])
        XCTAssertEqual(noBias.parameterCount, 1_728)
        let grouped = try build(["filters": 6, "kernel": 3, "groups": 2], [4, 5, 5])
        XCTAssertEqual(grouped.parameterSpecs.map(\.shape), [[6, 2, 3, 3], [6]])
        let depthwise = try build(["filters": 6, "kernel": 3, "groups": 3, "stride": 2], [3, 9, 9])
        XCTAssertEqual(depthwise.parameterSpecs.map(\.shape), [[6, 1, 3, 3], [6]])
        XCTAssertEqual(depthwise.macs, 60 * 16)
        // No lowering, only each worker-pool part's private weight and bias gradients.
        XCTAssertEqual(depthwise.workspaceSize(batch: 4), WorkerPool.maxParts * (6 * 9 + 6))
    }
}

/// The lowering and the direct kernels' weight gradient batch images into chunks sized by the
/// workspace budget; a batch that does not divide into whole chunks must give the same results as
/// running each image alone.
final class Conv2DChunkingTests: XCTestCase {
    /// 16 channels at 48x48, 3x3, stride 2, reflected padding (lowered everywhere) → 24x24:
    /// (2·144 + 8)·576 = 170,496 floats per image, so the 2²⁰-float budget lowers 6 images at a
    /// time; a batch of 9 is a chunk of 6 and one of 3.
    func testLoweredPartialChunksMatchImageByImage() throws {
        let layer = try build(["filters": 8, "kernel": 3, "padding": 1, "stride": 2, "padding_mode": "reflect"],
                              [16, 48, 48])
        let lowered = try XCTUnwrap(layer.algorithm as? LoweredConvolution)
        XCTAssertEqual(lowered.chunkSize(batch: 9), 6)
        try assertChunksMatchImageByImage(layer)
    }

    /// 32 channels at 64x64, 3x3, stride 1, pad 1 (direct kernels on AVX-512): 66·66 = 4,356
    /// floats per padded plane, (32 + 8)·4,356 = 174,240 per image, 6 images per chunk.
    func testDirectPartialChunksMatchImageByImage() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the direct kernels need AVX-512")
        let layer = try build(["filters": 8, "kernel": 3, "padding": 1], [32, 64, 64])
        let direct = try XCTUnwrap(layer.algorithm as? DirectConvolution)
        XCTAssertEqual(direct.chunk(batch: 9), 6)
        try assertChunksMatchImageByImage(layer)
    }

    /// 24 channels at 96x96, 3x3, stride 2, pad 1: four 49x49 phases of 2,401 floats per channel,
    /// (4·24 + 8)·2,401 = 249,704 floats per image, 4 images per chunk (4 + 4 + 1).
    func testStride2DirectPartialChunksMatchImageByImage() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the direct kernels need AVX-512")
        let layer = try build(["filters": 8, "kernel": 3, "padding": 1, "stride": 2], [24, 96, 96])
        let direct = try XCTUnwrap(layer.algorithm as? DirectConvolution)
        XCTAssertEqual(direct.plan.stride, 2)
        XCTAssertEqual(direct.chunk(batch: 9), 4)
        try assertChunksMatchImageByImage(layer)
    }

    /// A layer that may overwrite its input gradient writes every element of it on each path it
    /// takes: Winograd (9 images), and below 8 images the direct kernels (32 channels at 8x8) or
    /// the lowered product (128 channels at 8x8, or every layer with `CNNCTL_AVX512=off`).
    func testOverwrittenInputGradientOnEveryPath() throws {
        try XCTSkipUnless(WinogradPlan.enabled, "CNNCTL_WINOGRAD=off")
        for (channels, batch) in [(64, 9), (64, 2), (128, 2)] {
            let layer = try XCTUnwrap(GradientCheck.build(Conv2D.registration, config: ["filters": 64, "kernel": 3, "padding": 1],
                                                          inputs: [[channels, 8, 8]]) as? Conv2D)
            XCTAssertTrue(layer.canOverwriteInputGradient)
            var rng = RNG(seed: 9)
            let params = layer.parameterSpecs.map { spec in
                Tensor(shape: spec.shape, values: (0..<spec.shape.count).map { _ in rng.uniform(bound: 0.1) })
            }
            layer.bind(parameters: params, gradients: params.map { Tensor(shape: $0.shape) })
            let x = Tensor(shape: layer.inputShapes[0].batched(batch),
                           values: (0..<batch * layer.inputShapes[0].count).map { _ in rng.uniform(bound: 1) })
            let dy = Tensor(shape: layer.outputShape.batched(batch),
                            values: (0..<batch * layer.outputShape.count).map { _ in rng.uniform(bound: 1) })
            let workspace = Tensor(shape: [layer.workspaceSize(batch: batch)]), y = Tensor(shape: dy.shape)
            func inputGradient(overwriting: Bool, prefill: Float) -> [Float] {
                var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1), workspace: workspace.data,
                                               workspaceCount: workspace.count)
                context.overwritesInputGradient = overwriting
                let dx = Tensor(shape: x.shape)
                dx.fill(prefill)
                layer.forward(inputs: [x], output: y, context: &context)
                layer.backward(inputs: [x], output: y, outputGradient: dy, inputGradients: [dx], context: &context)
                return dx.array
            }
            XCTAssertEqual(inputGradient(overwriting: true, prefill: 1e6), inputGradient(overwriting: false, prefill: 0),
                           "\(channels) channels, batch \(batch)")
        }
    }

    /// Winograd on 16x16 outputs (16 tiles of 4x4): 8 images with lanes across them, then 1;
    /// on 48x48 outputs (144 tiles), one image at a time in blocks of 5, 5 and 2 tile rows.
    func testWinogradBlocksMatchImageByImage() throws {
        try XCTSkipUnless(WinogradPlan.enabled, "CNNCTL_WINOGRAD=off")
        let small = try build(["filters": 64, "kernel": 3, "padding": 1], [64, 16, 16])
        let lanes = try XCTUnwrap(small.algorithm as? WinogradConvolution).plan
        XCTAssertEqual([lanes.chunk(batch: 9), lanes.chunk(batch: 7)], [8, 4])
        XCTAssertTrue(lanes.lanesAcrossImages)
        try assertChunksMatchImageByImage(small)
        let large = try build(["filters": 64, "kernel": 3, "padding": 1], [64, 48, 48])
        let plan = try XCTUnwrap(large.algorithm as? WinogradConvolution).plan
        XCTAssertEqual([plan.chunk(batch: 9), plan.rowsPerBlock], [1, 5])
        try assertChunksMatchImageByImage(large)
    }

    private func build(_ config: JSONValue, _ input: Shape) throws -> Conv2D {
        let layer = try XCTUnwrap(GradientCheck.build(Conv2D.registration, config: config, inputs: [input]) as? Conv2D)
        layer.minimumBatch = 1
        return layer
    }

    private func assertChunksMatchImageByImage(_ layer: Conv2D, file: StaticString = #filePath, line: UInt = #line) throws {
        let (inShape, outShape) = (layer.inputShapes[0], layer.outputShape)
        let (inSize, outSize) = (inShape.count, outShape.count)
        var rng = RNG(seed: 4)
        let params = layer.parameterSpecs.map { spec in
            Tensor(shape: spec.shape, values: (0..<spec.shape.count).map { _ in rng.uniform(bound: 0.1) })
        }
        let x = Tensor(shape: inShape.batched(9), values: (0..<9 * inSize).map { _ in rng.uniform(bound: 1) })
        let dy = Tensor(shape: outShape.batched(9), values: (0..<9 * outSize).map { _ in rng.uniform(bound: 1) })

        func run(_ images: Range<Int>) -> (y: [Float], dx: [Float], dw: [Float]) {
            let n = images.count
            let xs = Tensor(shape: inShape.batched(n), values: Array(x.array[images.lowerBound * inSize..<images.upperBound * inSize]))
            let dys = Tensor(shape: outShape.batched(n), values: Array(dy.array[images.lowerBound * outSize..<images.upperBound * outSize]))
            let grads = params.map { Tensor(shape: $0.shape) }
            layer.bind(parameters: params, gradients: grads)
            let workspace = Tensor(shape: [layer.workspaceSize(batch: n)])
            var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1), workspace: workspace.data,
                                           workspaceCount: workspace.count)
            let y = Tensor(shape: outShape.batched(n)), dx = Tensor(shape: xs.shape)
            layer.forward(inputs: [xs], output: y, context: &context)
            layer.backward(inputs: [xs], output: y, outputGradient: dys, inputGradients: [dx], context: &context)
            return (y.array, dx.array, grads[0].array + grads[1].array)
        }
        let whole = run(0..<9)
        var y: [Float] = [], dx: [Float] = [], dw = [Float](repeating: 0, count: whole.dw.count)
        for i in 0..<9 {
            let one = run(i..<i + 1)
            y += one.y
            dx += one.dx
            for k in dw.indices { dw[k] += one.dw[k] }
        }
        // Relative to the largest value: a weight gradient sums 9·64² products per entry, and
        // summation order alone moves its small entries by more than 1e-4 of themselves.
        assertClose(whole.y, y, within: .relativeToLargest(1e-5), "output", file: file, line: line)
        assertClose(whole.dx, dx, within: .relativeToLargest(1e-5), "input gradient", file: file,
                                   line: line)
        assertClose(whole.dw, dw, within: .relativeToLargest(1e-5), "weight and bias gradients",
                                   file: file, line: line)
    }
}
