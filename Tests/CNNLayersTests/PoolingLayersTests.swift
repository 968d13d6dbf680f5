import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

/// A batch of seeded values in [−1, 1].
private func randomTensor(_ shape: Shape, seed: UInt64 = 3) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) }
    return t
}

private func build(_ reg: LayerRegistration, _ config: JSONValue, _ input: Shape,
                   name: String = "layer") throws -> any Layer {
    try GradientCheck.build(reg, config: config, inputs: [input], name: name)
}

/// The description of the error that building throws (fails the test when none is thrown).
private func buildError(_ reg: LayerRegistration, _ config: JSONValue, _ input: Shape,
                        file: StaticString = #filePath, line: UInt = #line) -> String {
    let error = GradientCheck.buildError(reg, config: config, inputs: [input])
    if error == nil { XCTFail("no error for \(config)", file: file, line: line) }
    return error ?? ""
}

/// One forward pass (no parameters), as an array.
private func apply(_ layer: any Layer, _ x: Tensor, stateInputs: [SavedState] = []) -> [Float] {
    GradientCheck.forward(layer, inputs: [x], parameters: [], stateInputs: stateInputs).array
}

/// A max pool's forward: its output and, per sample, the argmax it saved (`[C, H′, W′]` each).
private func maxPoolForward(_ pool: MaxPool2D, _ x: Tensor) -> (y: [Float], argmax: [[Int32]]) {
    let n = x.shape[0], per = pool.outputShape.count
    let saved = SavedState(allocating: pool.savedStateFloats(batch: n))
    let y = GradientCheck.forward(pool, inputs: [x], parameters: [], saved: saved).array
    let all = Array(UnsafeBufferPointer(start: saved.indices(count: n * per), count: n * per))
    return (y, (0..<n).map { Array(all[$0 * per..<($0 + 1) * per]) })
}

private func maxPool(_ config: JSONValue, _ input: Shape) throws -> MaxPool2D {
    try XCTUnwrap(try build(MaxPool2D.registration, config, input, name: "pool1") as? MaxPool2D)
}

/// Builds a layer with a `LayerBuildContext` directly, to see its shape notes.
private func buildWithNotes(_ reg: LayerRegistration, _ config: JSONValue, _ input: Shape)
    throws -> (layer: any Layer, notes: [String]) {
    var context = LayerBuildContext(name: "p", inputShapes: [input], config: config, path: "p",
                                    file: nil)
    let layer = try reg.build(&context)
    return (layer, context.notes)
}

/// An unpool built the way the graph builder does: `lookup` finds `layer` under "pool1" (node 0).
private func unpool(of layer: any Layer, input: Shape? = nil, config: String = "pool1") throws
    -> any Layer {
    var context = LayerBuildContext(name: "unpool", inputShapes: [input ?? layer.outputShape],
                                    config: ["pool": .string(config)], path: "unpool", file: nil)
    context.lookup = { $0 == "pool1" ? (0, layer) : nil }
    let unpool = try MaxUnpool2D.registration.build(&context)
    XCTAssertEqual(context.stateInputs, [0])
    return unpool
}

final class PoolingLayersTests: XCTestCase {
    // MARK: - Max pooling

    func testMaxPoolRegistrationGradient() throws {
        XCTAssertEqual(try GradientCheck.check(MaxPool2D.registration), [])
    }

    func testMaxPoolGradientOtherOptions() throws {
        let configs: [(JSONValue, Shape)] = [
            (["kernel": 2], [3, 5, 7]),
            (["kernel": [3, 2], "stride": 1, "padding": [1, 1]], [2, 4, 5]),
            (["kernel": 3, "stride": 2, "padding": [0, 1, 1, 0], "ceil_mode": true], [1, 7, 6]),
        ]
        for (config, input) in configs {
            let layer = try build(MaxPool2D.registration, config, input)
            XCTAssertEqual(GradientCheck.check(layer, spacedInputs: true), [], "\(config)")
        }
    }

    func testMaxPoolValuesAndIndices() throws {
        // 4x4 plane holding 0...15; 2x2 windows: each maximum is the window's bottom-right.
        let pool = try maxPool(["kernel": 2], [1, 4, 4])
        XCTAssertEqual(pool.outputShape, [1, 2, 2])
        let x = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
        let (y, argmax) = maxPoolForward(pool, x)
        XCTAssertEqual(y, [5, 7, 13, 15])
        XCTAssertEqual(argmax[0], [5, 7, 13, 15])
        // Ties keep the first maximum in scan order, as PyTorch: each window's top-left.
        let flat = Tensor(shape: [1, 1, 4, 4], values: Array(repeating: 7, count: 16))
        let (tied, tiedArgmax) = maxPoolForward(pool, flat)
        XCTAssertEqual(tied, [7, 7, 7, 7])
        XCTAssertEqual(tiedArgmax[0], [0, 2, 8, 10])
    }

    func testMaxPoolMatchesNaiveWithPaddingAndCeil() throws {
        let (C, H, W, k, s, p) = (2, 7, 6, 3, 2, 1)
        let pool = try maxPool(["kernel": .int(k), "stride": .int(s), "padding": .int(p),
                                "ceil_mode": true], [C, H, W])
        // ceil((7 + 2 − 3)/2) + 1 = 4 (the last window starts at padded row 6 < 7 + 1); the
        // width's floor((6 + 2 − 3)/2) + 1 = 3 becomes 4 too (padded column 6 < 6 + 1).
        XCTAssertEqual(pool.outputShape, [C, 4, 4])
        let x = randomTensor([2, C, H, W])
        let (y, argmax) = maxPoolForward(pool, x)
        for n in 0..<2 {
            let idx = argmax[n]
            for c in 0..<C { for oh in 0..<4 { for ow in 0..<4 {
                var best = -Float.infinity, at = -1
                for h in (oh * s - p)..<(oh * s - p + k) where h >= 0 && h < H {
                    for w in (ow * s - p)..<(ow * s - p + k) where w >= 0 && w < W
                        && x.data[((n * C + c) * H + h) * W + w] > best {
                        best = x.data[((n * C + c) * H + h) * W + w]
                        at = h * W + w
                    }
                }
                let o = (c * 4 + oh) * 4 + ow
                XCTAssertEqual(y[n * C * 16 + o], best)
                XCTAssertEqual(Int(idx[o]), at)
            }}}
        }
    }

    func testMaxPoolPropagatesNaN() throws {
        let pool = try maxPool(["kernel": 2], [1, 2, 2])
        let (y, argmax) = maxPoolForward(pool, Tensor(shape: [1, 1, 2, 2], values: [1, .nan, 3, 2]))
        XCTAssertTrue(y[0].isNaN, "\(y)")
        XCTAssertEqual(argmax[0], [1])
    }

    /// ResNet's 3x3/2 stem pool with padding 1: its unrolled interior windows and the bounded
    /// border windows follow one rule (scan order, first maximum, a NaN wins) on coarse values
    /// with ties and NaNs.
    func testThreeByThreeWindowsFollowTheScanOrderRule() throws {
        let (H, W) = (15, 13)
        let pool = try maxPool(["kernel": 3, "stride": 2, "padding": 1], [1, H, W])
        let values = (0..<H * W).map { i -> Float in i % 23 == 5 ? .nan : Float((i * 7) % 5) }
        let (y, argmax) = maxPoolForward(pool, Tensor(shape: [1, 1, H, W], values: values))
        let (OH, OW) = (pool.outputShape[1], pool.outputShape[2])
        for oh in 0..<OH {
            for ow in 0..<OW {
                var best = -Float.infinity, at = -1
                for h in max(2 * oh - 1, 0)..<min(2 * oh + 2, H) {
                    for w in max(2 * ow - 1, 0)..<min(2 * ow + 2, W) {
                        let v = values[h * W + w]
                        if (v > best) != v.isNaN || at < 0 { best = v; at = h * W + w }
                    }
                }
                let o = oh * OW + ow
                XCTAssertTrue(y[o] == best || (y[o].isNaN && best.isNaN), "window (\(oh), \(ow))")
                XCTAssertEqual(Int(argmax[0][o]), at, "window (\(oh), \(ow))")
            }
        }
    }

    /// The 2x2/2 path handles eight windows per vector, stores only a short row's own lanes and
    /// goes window by window where a load would pass the input's end: 35-wide planes (17 windows:
    /// two vectors and one lane) and LeNet's 10x10 (5 windows), of values on a coarse grid, so
    /// windows hold ties, plus NaNs, against the scan-order rule (first maximum; a NaN wins).
    func testTwoByTwoVectorPathMatchesScanOrderRule() throws {
        for (C, H, W) in [(3, 6, 35), (4, 10, 10)] {
            let (OH, OW) = (H / 2, W / 2)
            let pool = try maxPool(["kernel": 2], [C, H, W])
            XCTAssertEqual(pool.outputShape, [C, OH, OW])
            let x = randomTensor([2, C, H, W], seed: 9)
            for i in 0..<x.count { x.data[i] = (x.data[i] * 2).rounded() / 2 }
            for i in [5, 80, 300, 390] { x.data[i] = .nan }
            let (y, argmax) = maxPoolForward(pool, x)
            for n in 0..<2 {
                let idx = argmax[n]
                for c in 0..<C { for oh in 0..<OH { for ow in 0..<OW {
                    let plane = x.data + (n * C + c) * H * W
                    var at = 2 * oh * W + 2 * ow
                    for k in [2 * oh * W + 2 * ow + 1, (2 * oh + 1) * W + 2 * ow, (2 * oh + 1) * W + 2 * ow + 1]
                        where plane[k] > plane[at] || plane[k].isNaN && !plane[at].isNaN {
                        at = k
                    }
                    let o = (c * OH + oh) * OW + ow
                    XCTAssertEqual(Int(idx[o]), at, "\(W) wide: sample \(n) plane \(c) window \(oh),\(ow)")
                    XCTAssertEqual(y[n * C * OH * OW + o].bitPattern, plane[at].bitPattern)
                }}}
            }
        }
    }

    func testCeilModeShapesAndNotes() throws {
        // GoogLeNet's pools: 112 → 56 and 28 → 14 with a 3x3 stride-2 window in ceil mode.
        let ceil: JSONValue = ["kernel": 3, "stride": 2, "ceil_mode": true]
        let googlenet = try buildWithNotes(MaxPool2D.registration, ceil, [64, 112, 112])
        XCTAssertEqual(googlenet.layer.outputShape, [64, 56, 56])
        // Inexact (55.5), but ceil mode's extra window reads the last pixels: nothing is lost.
        XCTAssertEqual(googlenet.notes, [])
        let small = try buildWithNotes(AvgPool2D.registration,
                                       ["kernel": 3, "stride": 2, "padding": 0, "ceil_mode": true],
                                       [8, 28, 28])
        XCTAssertEqual(small.layer.outputShape, [8, 14, 14])
        XCTAssertEqual(small.notes, [])
        // Floor mode drops the last pixel instead, and says so.
        let floor = try buildWithNotes(MaxPool2D.registration, ["kernel": 3, "stride": 2],
                                       [1, 28, 9])
        XCTAssertEqual(floor.layer.outputShape, [1, 13, 4])
        // Height (28 − 3)/2 + 1 = 13.5 leaves the last row unread; width (9 − 3)/2 + 1 = 4 is exact.
        XCTAssertEqual(floor.notes, ["height: (28 − 3 + 2·0)/2 + 1 = 13.5 is not an integer: output 13; "
                                     + "the last 1 input pixel(s) of the height are never read"])
        // An exact division leaves no note.
        let exact = try buildWithNotes(MaxPool2D.registration, ceil, [1, 7, 7])
        XCTAssertEqual(exact.layer.outputShape, [1, 3, 3])
        XCTAssertEqual(exact.notes, [])
        XCTAssertEqual(exact.layer.window?.kernelH, 3)
        XCTAssertEqual(exact.layer.macs, 0)
    }

    func testPoolConfigErrors() throws {
        for reg in [MaxPool2D.registration, AvgPool2D.registration] {
            let stride = buildError(reg, ["kernel": 2, "stride": 0], [1, 4, 4])
            XCTAssert(stride.contains("layer.stride: must be") && stride.hasSuffix("got 0"), stride)
            let pad = buildError(reg, ["kernel": 3, "padding": 2], [1, 8, 8])
            XCTAssert(pad.contains("layer.padding: must be at most half the kernel (1)"), pad)
            let oneSide = buildError(reg, ["kernel": [4, 2], "padding": [0, 0, 0, 2]], [1, 8, 8])
            XCTAssert(oneSide.contains("layer.padding"), oneSide)
            let big = buildError(reg, ["kernel": 5], [1, 4, 4])
            XCTAssert(big.contains("layer.kernel"), big)
        }
        let key = buildError(MaxPool2D.registration, ["kernel": 2, "count_include_pad": true],
                             [1, 4, 4])
        XCTAssert(key.contains("count_include_pad"), key)
    }

    // MARK: - Average pooling

    func testAvgPoolRegistrationGradient() throws {
        XCTAssertEqual(try GradientCheck.check(AvgPool2D.registration), [])
    }

    func testAvgPoolGradientOtherOptions() throws {
        let configs: [(JSONValue, Shape)] = [
            (["kernel": 2], [3, 5, 7]),
            (["kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true], [2, 4, 5]),
            (["kernel": [3, 2], "stride": 1, "padding": [1, 0], "count_include_pad": false],
             [1, 5, 4]),
        ]
        for (config, input) in configs {
            let layer = try build(AvgPool2D.registration, config, input)
            XCTAssertEqual(GradientCheck.check(layer), [], "\(config)")
        }
    }

    func testAvgPoolCeilModeDivisors() throws {
        // 3x3 plane 1...9, 2x2 stride 2, ceil: windows {1,2,4,5}, {3,6}, {7,8}, {9}; PyTorch
        // divides each by its in-image size (no padding to include): 3, 4.5, 7.5, 9.
        let plain = try build(AvgPool2D.registration, ["kernel": 2, "ceil_mode": true], [1, 3, 3])
        let x = Tensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init))
        XCTAssertEqual(apply(plain, x), [3, 4.5, 7.5, 9])

        // Ones 4x4, 3x3 stride 2 pad 1, ceil → 3x3. Along each axis the windows cover padded rows
        // [−1, 2), [1, 4), [3, 5): 3, 3 and 2 rows within the padded line (the last hangs past
        // it), of which 2, 3 and 1 are pixels. count_include_pad divides by the padded extent,
        // so y[i][j] = r_i·r_j with r = (2/3, 1, 1/2); without it every window averages ones.
        let ones = Tensor(shape: [1, 1, 4, 4], values: Array(repeating: 1, count: 16))
        let config: JSONValue = ["kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true]
        let include = try build(AvgPool2D.registration, config, [1, 4, 4])
        let r: [Float] = [2.0 / 3, 1, 0.5]
        let expected = r.flatMap { a in r.map { a * $0 } }
        assertClose(apply(include, ones), expected, within: .absolute(1e-6))
        var exclude = try XCTUnwrap(config.objectValue)
        exclude["count_include_pad"] = false
        let excluding = try build(AvgPool2D.registration, .object(exclude), [1, 4, 4])
        assertClose(apply(excluding, ones), Array(repeating: 1, count: 9), within: .absolute(1e-6))
    }

    // MARK: - Global pooling

    func testGlobalPoolGradients() throws {
        XCTAssertEqual(try GradientCheck.check(GlobalAvgPool.registration), [])
        XCTAssertEqual(try GradientCheck.check(GlobalMaxPool.registration), [])
        let avg = try build(GlobalAvgPool.registration, [:], [2, 3, 5])
        XCTAssertEqual(GradientCheck.check(avg), [])
        let max = try build(GlobalMaxPool.registration, ["keep_dims": true], [2, 3, 5])
        XCTAssertEqual(GradientCheck.check(max, spacedInputs: true), [])
    }

    func testGlobalPoolValuesAndShapes() throws {
        let x = Tensor(shape: [1, 2, 2, 3], values: [1, 5, 2, 0, 3, 1,  -4, -2, -9, -1, -3, -5])
        let avg = try build(GlobalAvgPool.registration, [:], [2, 2, 3])
        XCTAssertEqual(avg.outputShape, [2])
        XCTAssertEqual(apply(avg, x), [2, -4])
        let max = try build(GlobalMaxPool.registration, ["keep_dims": true], [2, 2, 3])
        XCTAssertEqual(max.outputShape, [2, 1, 1])
        let argmax = SavedState(allocating: max.savedStateFloats(batch: 1))
        XCTAssertEqual(GradientCheck.forward(max, inputs: [x], parameters: [], saved: argmax).array, [5, -1])
        // The gradient goes to the argmax only.
        let dx = Tensor(shape: x.shape)
        var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1),
                                       workspace: dx.data, workspaceCount: 0)
        context.saved = argmax
        max.backward(inputs: [x], output: Tensor(shape: [1, 2, 1, 1]),
                     outputGradient: Tensor(shape: [1, 2, 1, 1], values: [10, 20]),
                     inputGradients: [dx], context: &context)
        XCTAssertEqual(dx.array, [0, 10, 0, 0, 0, 0,  0, 0, 0, 20, 0, 0])
        let rank = buildError(GlobalMaxPool.registration, [:], [4])
        XCTAssert(rank.contains("expects a rank-3 input"), rank)
    }

    // MARK: - Max unpooling

    func testUnpoolExampleIsNotStandalone() throws {
        XCTAssertFalse(MaxUnpool2D.registration.example.standalone)
    }

    func testUnpoolGradientAndValues() throws {
        let pool = try maxPool(["kernel": 2], [2, 6, 5])
        let x = randomTensor([2, 2, 6, 5])
        let argmax = SavedState(allocating: pool.savedStateFloats(batch: 2))
        let pooled = GradientCheck.forward(pool, inputs: [x], parameters: [], saved: argmax)
        let layer = try unpool(of: pool)
        XCTAssertEqual(layer.inputShapes, [[2, 3, 2]])
        XCTAssertEqual(layer.outputShape, [2, 6, 5])
        XCTAssertEqual(GradientCheck.check(layer, stateInputs: [argmax]), [])
        // unpool(pool(x)) keeps each window's maximum in place and zeroes the rest (the last
        // column, outside every floor-mode window, included).
        let y = apply(layer, pooled, stateInputs: [argmax])
        var kept = 0
        for i in 0..<x.count {
            let (w, h) = (i % 5, (i / 5) % 6)
            let plane = i / 30, window = (plane * 3 + h / 2) * 2 + w / 2
            if w < 4 && x.data[i] == pooled.data[window] {
                XCTAssertEqual(y[i], x.data[i])
                kept += 1
            } else {
                XCTAssertEqual(y[i], 0)
            }
        }
        XCTAssertEqual(kept, pooled.count)
    }

    func testUnpoolOverlappingWindowsIsExactAdjoint() throws {
        // 3x3 planes peaking at the centre; 2x2 stride-1 windows all pick pixel 4.
        let pool = try maxPool(["kernel": 2, "stride": 1], [1, 3, 3])
        let x = Tensor(shape: [2, 1, 3, 3], values: [0, 1, 0, 1, 9, 1, 0, 1, 0,
                                                     2, 3, 4, 5, 6, 5, 4, 3, 2])
        let argmax = SavedState(allocating: pool.savedStateFloats(batch: 2))
        _ = GradientCheck.forward(pool, inputs: [x], parameters: [], saved: argmax)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: argmax.indices(count: 4), count: 4)), [4, 4, 4, 4])
        let layer = try unpool(of: pool)
        // The last write wins, as in PyTorch's CPU kernel.
        let y = apply(layer, Tensor(shape: [2, 1, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8]), stateInputs: [argmax])
        XCTAssertEqual(Array(y[0..<9]), [0, 0, 0, 0, 4, 0, 0, 0, 0])
        XCTAssertEqual(GradientCheck.check(layer, stateInputs: [argmax]), [])
    }

    func testUnpoolConfigErrors() throws {
        let pool = try maxPool(["kernel": 2], [2, 6, 5])
        XCTAssertThrowsError(try unpool(of: pool, config: "p9")) { error in
            XCTAssert("\(error)".contains("unpool.pool: no layer named \"p9\""), "\(error)")
        }
        let gap = try build(GlobalAvgPool.registration, [:], [2, 3, 2])
        XCTAssertThrowsError(try unpool(of: gap, input: [2, 3, 2])) { error in
            let message = "unpool.pool: \"pool1\" is a global_avgpool, not a maxpool2d"
            XCTAssert("\(error)".contains(message), "\(error)")
        }
        XCTAssertThrowsError(try unpool(of: pool, input: [2, 3, 3])) { error in
            XCTAssert("\(error)".contains("input [2, 3, 3] does not match the output [2, 3, 2]"),
                      "\(error)")
        }
    }

    // MARK: - Upsampling

    func testUpsampleGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Upsample.registration), [])
        let configs: [JSONValue] = [["scale": 2], ["scale": [3, 1], "mode": "bilinear"],
                                    ["scale": 3]]
        for config in configs {
            let layer = try build(Upsample.registration, config, [2, 3, 2])
            XCTAssertEqual(GradientCheck.check(layer), [], "\(config)")
        }
    }

    func testUpsampleNearest() throws {
        let layer = try build(Upsample.registration, ["scale": 2], [1, 2, 2])
        XCTAssertEqual(layer.outputShape, [1, 4, 4])
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        XCTAssertEqual(apply(layer, x), [1, 1, 2, 2,  1, 1, 2, 2,  3, 3, 4, 4,  3, 3, 4, 4])
    }

    func testUpsampleBilinearMatchesPyTorchFormula() throws {
        // align_corners=False, scale 2: dst 0…3 reads source max((d + 0.5)/2 − 0.5, 0) =
        // 0, 0.25, 0.75, 1.25, i.e. [a, ¾a + ¼b, ¼a + ¾b, b] (1.25 has no row 2: both taps are 1).
        // Rows [1, 2] and [3, 4] become [1, 1.25, 1.75, 2] and [3, 3.25, 3.75, 4]; the rows then
        // blend the same way: row 1 = ¾·[1, 1.25, 1.75, 2] + ¼·[3, 3.25, 3.75, 4], and so on.
        let layer = try build(Upsample.registration, ["scale": 2, "mode": "bilinear"], [1, 2, 2])
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let expected: [Float] = [1.0, 1.25, 1.75, 2.0,
                                 1.5, 1.75, 2.25, 2.5,
                                 2.5, 2.75, 3.25, 3.5,
                                 3.0, 3.25, 3.75, 4.0]
        assertClose(apply(layer, x), expected, within: .absolute(1e-6))

        // Scale [1, 3] on [0, 3]: sources max((d + 0.5)/3 − 0.5, 0) = 0, 0, 1/3, 2/3, 1, 4/3
        // → 0, 0, 1, 2, 3, 3; scale 1 along the height is the identity.
        let wide = try build(Upsample.registration, ["scale": [1, 3], "mode": "bilinear"],
                             [1, 1, 2])
        let row = Tensor(shape: [1, 1, 1, 2], values: [0, 3])
        assertClose(apply(wide, row), [0, 0, 1, 2, 3, 3], within: .absolute(1e-5))
    }

    func testUpsampleConfigErrors() throws {
        let zero = buildError(Upsample.registration, ["scale": 0], [1, 2, 2])
        XCTAssert(zero.contains("layer.scale: must be") && zero.hasSuffix("got 0"), zero)
        let mode = buildError(Upsample.registration, ["scale": 2, "mode": "bilnear"], [1, 2, 2])
        XCTAssert(mode.contains("layer.mode") && mode.contains("did you mean \"bilinear\""), mode)
    }
}
