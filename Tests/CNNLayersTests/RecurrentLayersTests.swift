import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

final class RecurrentLayersTests: XCTestCase {
    // MARK: - Helpers

    private func build(_ reg: LayerRegistration, _ config: JSONValue,
                       _ inputs: [Shape] = [[4, 3]]) throws -> any RecurrentLayerProtocol {
        try XCTUnwrap(try GradientCheck.build(reg, config: config, inputs: inputs) as? any RecurrentLayerProtocol)
    }

    /// The description of the ConfigError thrown when building, or a failure.
    private func buildError(_ reg: LayerRegistration, _ config: JSONValue, _ inputs: [Shape] = [[4, 3]],
                            file: StaticString = #filePath, line: UInt = #line) -> String {
        let error = GradientCheck.buildError(reg, config: config, inputs: inputs)
        if error == nil { XCTFail("expected a config error", file: file, line: line) }
        return error ?? ""
    }

    private func random(_ shape: Shape, seed: UInt64, bound: Float = 1) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.count).map { _ in rng.uniform(bound: bound) })
    }

    private func randomParameters(_ layer: any Layer, seed: UInt64 = 11) -> [Tensor] {
        layer.parameterSpecs.enumerated().map { random($1.shape, seed: seed + UInt64($0), bound: 0.8) }
    }

    private func forward(_ layer: any Layer, _ x: Tensor, _ parameters: [Tensor], training: Bool = false,
                         seed: UInt64 = 1) -> [Float] {
        GradientCheck.forward(layer, inputs: [x], parameters: parameters, training: training, seed: seed).array
    }

    private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Forward (training, seeded) then backward of `dy`: the input and parameter gradients.
    private func gradients(_ layer: any Layer, x: Tensor, parameters: [Tensor],
                           dy: Tensor) -> (Tensor, [Tensor]) {
        let grads = parameters.map { Tensor(shape: $0.shape) }
        layer.bind(parameters: parameters, gradients: grads)
        let workspace = Tensor(shape: [1])
        var context = ExecutionContext(isTraining: true, rng: RNG(seed: 5), workspace: workspace.data,
                                       workspaceCount: 1)
        context.saved = SavedState(allocating: layer.savedStateFloats(batch: x.shape[0]))
        let y = Tensor(shape: layer.outputShape.batched(x.shape[0])), dx = Tensor(shape: x.shape)
        layer.forward(inputs: [x], output: y, context: &context)
        layer.backward(inputs: [x], output: y, outputGradient: dy, inputGradients: [dx], context: &context)
        return (dx, grads)
    }

    // MARK: - Gradient checks (T = 4, N = 2 unless noted)

    func testRegisteredExamplesPassGradientChecks() throws {
        for reg in [GRU.registration, LSTM.registration, SimpleRNN.registration] {
            XCTAssertEqual(try GradientCheck.check(reg), [], reg.type)
            XCTAssertEqual(GradientCheck.check(try GradientCheck.build(reg), training: false), [], reg.type)
        }
    }

    func testGRUGradients() throws {
        for resetAfter in [true, false] {
            let r: JSONValue = .bool(resetAfter)
            let configs: [JSONValue] = [
                ["hidden": 3, "reset_after": r],
                ["hidden": 3, "reset_after": r, "return_sequences": true],
                ["hidden": 2, "reset_after": r, "bidirectional": true],
                ["hidden": 3, "reset_after": r, "initial_state": "learned", "bidirectional": true],
                ["hidden": 3, "reset_after": r, "layers": 2, "dropout": 0.4, "return_sequences": true],
            ]
            for config in configs {
                XCTAssertEqual(GradientCheck.check(try build(GRU.registration, config)), [], "\(config)")
            }
        }
    }

    func testLSTMGradients() throws {
        let configs: [JSONValue] = [
            ["hidden": 3],
            ["hidden": 3, "peepholes": true, "return_sequences": true],
            ["hidden": 3, "forget_bias": 0.5, "peepholes": true],
            ["hidden": 2, "bidirectional": true, "initial_state": "learned", "peepholes": true],
            ["hidden": 3, "layers": 2, "dropout": 0.4, "bidirectional": true, "return_sequences": true],
        ]
        for config in configs {
            XCTAssertEqual(GradientCheck.check(try build(LSTM.registration, config)), [], "\(config)")
        }
    }

    /// Without peepholes and with H a multiple of 16 (on AVX-512) the gate passes are `LSTMCell`'s,
    /// which also sums the gate gradients for the biases: H = 16 bidirectional with a learned
    /// state and every output (batch 3, sgemm products), stacked H = 16 (batch 9, packed
    /// products), and H = 16 at batch 17 (two parts, each adding into its own sums).
    func testLSTMCellKernelsPassTheGradientCheck() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the cell's kernels need AVX-512")
        let cases: [(JSONValue, Int)] = [
            (["hidden": 16, "bidirectional": true, "initial_state": "learned", "return_sequences": true], 3),
            (["hidden": 16, "layers": 2], 9),
            (["hidden": 16, "forget_bias": 0.5], 17),
        ]
        for (config, batch) in cases {
            let layer = try XCTUnwrap(try build(LSTM.registration, config) as? LSTM)
            XCTAssertTrue(layer.vectorCell, "\(config)")
            XCTAssertEqual(GradientCheck.check(layer, batch: batch, maxElements: 200), [], "\(config) batch \(batch)")
        }
        XCTAssertFalse(try XCTUnwrap(try build(LSTM.registration, ["hidden": 16, "peepholes": true]) as? LSTM).vectorCell)
    }

    func testRNNGradients() throws {
        let configs: [JSONValue] = [
            ["hidden": 3],
            ["hidden": 3, "bidirectional": true, "return_sequences": true],
            ["hidden": 3, "layers": 2, "dropout": 0.3, "bidirectional": true, "initial_state": "learned"],
        ]
        for config in configs {
            let layer = try build(SimpleRNN.registration, config)
            XCTAssertEqual(GradientCheck.check(layer, batch: 3), [], "\(config)")
        }
    }

    // MARK: - Forward values

    func testForwardMatchesNaiveDoubleReference() throws {
        let cases: [(LayerRegistration, JSONValue)] = [
            (GRU.registration, ["hidden": 3, "layers": 2, "bidirectional": true,
                                "return_sequences": true, "initial_state": "learned"]),
            (GRU.registration, ["hidden": 3, "reset_after": false, "bidirectional": true]),
            (GRU.registration, ["hidden": 2, "reset_after": false, "layers": 2, "return_sequences": true]),
            (LSTM.registration, ["hidden": 3, "peepholes": true, "forget_bias": 0.7, "layers": 2,
                                 "bidirectional": true, "initial_state": "learned"]),
            (LSTM.registration, ["hidden": 2, "return_sequences": true]),
            (SimpleRNN.registration, ["hidden": 3, "layers": 2, "bidirectional": true,
                                      "return_sequences": true, "initial_state": "learned", "dropout": 0.5]),
        ]
        for (reg, config) in cases {
            let layer = try build(reg, config, [[4, 5]])
            let x = random([3, 4, 5], seed: 2), parameters = randomParameters(layer)
            let reference = Reference(layer, parameters)
            var expected: [Float] = []
            for b in 0..<3 {
                let sample = (0..<4).map { t in (0..<5).map { Double(x.data[(b * 4 + t) * 5 + $0]) } }
                expected += reference.run(sample).map(Float.init)
            }
            XCTAssertEqual(expected.count, layer.outputShape.batched(3).count)
            assertClose(forward(layer, x, parameters), expected, within: .relative(2e-5))
        }
    }

    /// PyTorch's `nn.GRU` formulas by hand for H = F = 1, T = 2 (weights in its r, z, n order).
    func testGRUResetAfterFollowsPyTorchByHand() throws {
        let layer = try build(GRU.registration, ["hidden": 1, "return_sequences": true], [[2, 1]])
        let parameters = [Tensor(shape: [3, 1], values: [0.5, -0.25, 1.0]),  // weight_ih_l0: W_ir, W_iz, W_in
                          Tensor(shape: [3, 1], values: [0.75, 0.5, -0.5]),  // weight_hh_l0: W_hr, W_hz, W_hn
                          Tensor(shape: [3], values: [0.1, 0.2, -0.1]),      // bias_ih_l0
                          Tensor(shape: [3], values: [-0.2, 0.1, 0.3])]      // bias_hh_l0
        let x = Tensor(shape: [1, 2, 1], values: [1, -2])
        // t = 0, h₋₁ = 0: r = σ(0.5·1 + 0.1 + 0.75·0 − 0.2) = σ(0.4) = 0.598688
        //   z = σ(−0.25 + 0.2 + 0 + 0.1) = σ(0.05) = 0.512497
        //   n = tanh(1·1 − 0.1 + r·(−0.5·0 + 0.3)) = tanh(1.079606) = 0.793053
        //   h = (1 − z)·n + z·h₋₁ = 0.487503·0.793053 = 0.386615
        // t = 1: r = σ(0.5·(−2) + 0.1 + 0.75·0.386615 − 0.2) = σ(−0.810038) = 0.307882
        //   z = σ(−0.25·(−2) + 0.2 + 0.5·0.386615 + 0.1) = σ(0.993308) = 0.729741
        //   n = tanh(1·(−2) − 0.1 + r·(−0.5·0.386615 + 0.3)) = tanh(−2.067151) = −0.968477
        //   h = 0.270259·(−0.968477) + 0.729741·0.386615 = 0.020389
        assertClose(forward(layer, x, parameters), [0.386615, 0.020389], within: .relative(2e-6))
        // The lecture form differs: at t = 0, ĥ = tanh(1 − 0.1 + W_hn·(r·0) + 0.3) = tanh(1.2)
        // (b_hn is not scaled by r) and z takes the new state, h = z·ĥ = 0.512497·0.833655.
        let lecture = try build(GRU.registration, ["hidden": 1, "return_sequences": true,
                                                   "reset_after": false], [[2, 1]])
        XCTAssertEqual(forward(lecture, x, parameters)[0], 0.512497 * 0.833655, accuracy: 2e-6)
    }

    func testForgetBiasEqualsShiftedForgetSliceOfBiasIH() throws {
        let shifted = try build(LSTM.registration, ["hidden": 3, "forget_bias": 1.5])
        let plain = try build(LSTM.registration, ["hidden": 3, "forget_bias": 0])
        let x = random([2, 4, 3], seed: 4), parameters = randomParameters(plain)
        let moved = parameters.map { Tensor(shape: $0.shape, values: $0.array) }
        for j in 3..<6 { moved[2].data[j] += 1.5 }  // bias_ih_l0[H..<2H]: the forget gate
        assertClose(forward(shifted, x, parameters), forward(plain, x, moved), within: .relative(1e-5))
        XCTAssertGreaterThan(maxDifference(forward(shifted, x, parameters), forward(plain, x, parameters)), 1e-3)
    }

    func testBatchesOfAnySizeMatchSampleBySample() throws {
        let layer = try build(LSTM.registration, ["hidden": 4, "bidirectional": true, "layers": 2,
                                                  "return_sequences": true], [[5, 3]])
        let parameters = randomParameters(layer), x = random([3, 5, 3], seed: 9)
        // Batch 1 first, then the buffers grow to 3, then a smaller batch reuses them.
        var perSample: [Float] = []
        for b in 0..<3 {
            let one = Tensor(shape: [1, 5, 3], values: Array(x.array[(b * 15)..<((b + 1) * 15)]))
            perSample += forward(layer, one, parameters)
        }
        assertClose(forward(layer, x, parameters), perSample, within: .relative(1e-5))
        let two = Tensor(shape: [2, 5, 3], values: Array(x.array[15...]))
        assertClose(forward(layer, two, parameters), Array(perSample[40...]), within: .relative(1e-5))
    }

    func testDropoutOnlyInTrainingAndReproducible() throws {
        let layer = try build(SimpleRNN.registration, ["hidden": 4, "layers": 3, "dropout": 0.5,
                                                       "return_sequences": true])
        let parameters = randomParameters(layer), x = random([2, 4, 3], seed: 3)
        let eval = forward(layer, x, parameters)
        let train = forward(layer, x, parameters, training: true, seed: 8)
        XCTAssertEqual(train, forward(layer, x, parameters, training: true, seed: 8))
        XCTAssertGreaterThan(maxDifference(eval, train), 1e-3)
        let noDropout = try build(SimpleRNN.registration, ["hidden": 4, "layers": 3, "return_sequences": true])
        assertClose(forward(noDropout, x, parameters, training: true), eval, within: .relative(1e-5))
    }

    func testFastTanhAndSigmoidAreWithinDocumentedErrors() {
        var worstTanh = 0.0, worstSigmoid = 0.0
        for i in -40_000...40_000 {
            let v = Float(i) * 5e-4
            let t = RecurrentKernels.tanh(v), s = RecurrentKernels.sigmoid(v)
            XCTAssertLessThanOrEqual(abs(t), 1)
            XCTAssertGreaterThanOrEqual(s, 0)
            worstTanh = max(worstTanh, abs(Double(t) - Foundation.tanh(Double(v))))
            worstSigmoid = max(worstSigmoid, abs(Double(s) - 1 / (1 + exp(-Double(v)))))
        }
        XCTAssertLessThan(worstTanh, 4e-7, "\(worstTanh)")
        XCTAssertLessThan(worstSigmoid, 2.5e-7, "\(worstSigmoid)")
        // σ is exactly 0 and 1 beyond ±16 (tanh's clamp gives exactly ±1 there).
        for v: Float in [16, 17, 30, 1e6, .infinity] {
            XCTAssertEqual(RecurrentKernels.sigmoid(v), 1)
            XCTAssertEqual(RecurrentKernels.sigmoid(-v), 0)
        }
    }

    /// The sixteen-lane tanh and σ (`LSTMCell`'s) give each lane exactly the scalar result.
    func testVectorTanhAndSigmoidEqualTheScalarOnesLaneByLane() {
        for start in stride(from: -40_000, to: 40_000, by: 16) {
            let v = SIMD16<Float>((0..<16).map { Float(start + $0) * 5e-4 })
            let t = FastMath.tanh(v), s = FastMath.sigmoid(v)
            for l in 0..<16 {
                XCTAssertEqual(t[l].bitPattern, FastMath.tanh(v[l]).bitPattern, "tanh(\(v[l]))")
                XCTAssertEqual(s[l].bitPattern, FastMath.sigmoid(v[l]).bitPattern, "σ(\(v[l]))")
            }
        }
    }

    // MARK: - Truncated BPTT

    func testBPTTCutsOnlyTheRecurrentPathAtBlockBoundaries() throws {
        for reg in [GRU.registration, LSTM.registration] {
            let full = try build(reg, ["hidden": 3, "return_sequences": true])
            let cut = try build(reg, ["hidden": 3, "return_sequences": true, "bptt": 2])
            let parameters = randomParameters(full), x = random([2, 4, 3], seed: 6)
            /// A random output gradient, zero outside `steps`.
            func dy(at steps: [Int]) -> Tensor {
                let d = random([2, 4, 3], seed: 12)
                for i in 0..<d.count where !steps.contains(i / 3 % 4) { d.data[i] = 0 }
                return d
            }
            func rows(_ t: Tensor, _ steps: [Int]) -> [Float] {
                t.array.enumerated().filter { steps.contains($0.offset / 3 % 4) }.map(\.element)
            }
            // Only the last output: its block (steps 2, 3) is exact, steps 0 and 1 get nothing.
            let (dxFull, gFull) = gradients(full, x: x, parameters: parameters, dy: dy(at: [3]))
            let (dxCut, gCut) = gradients(cut, x: x, parameters: parameters, dy: dy(at: [3]))
            assertClose(rows(dxCut, [2, 3]), rows(dxFull, [2, 3]), within: .relative(1e-5))
            XCTAssertEqual(rows(dxCut, [0, 1]), [Float](repeating: 0, count: 12))
            XCTAssertGreaterThan(rows(dxFull, [0, 1]).map(abs).max() ?? 0, 1e-4)
            XCTAssertGreaterThan(maxDifference(gCut[1].array, gFull[1].array), 1e-5)
            // Outputs inside the first block lose nothing.
            let (dxFull1, gFull1) = gradients(full, x: x, parameters: parameters, dy: dy(at: [0, 1]))
            let (dxCut1, gCut1) = gradients(cut, x: x, parameters: parameters, dy: dy(at: [0, 1]))
            assertClose(dxCut1.array, dxFull1.array, within: .relative(1e-5))
            for (a, b) in zip(gCut1, gFull1) { assertClose(a.array, b.array, within: .relative(1e-5)) }
            // A block as long as the sequence is full BPTT; forward never changes.
            let whole = try build(reg, ["hidden": 3, "return_sequences": true, "bptt": 4])
            let all = dy(at: [0, 1, 2, 3])
            assertClose(gradients(whole, x: x, parameters: parameters, dy: all).0.array,
                        gradients(full, x: x, parameters: parameters, dy: all).0.array,
                        within: .relative(1e-5))
            XCTAssertEqual(forward(cut, x, parameters), forward(full, x, parameters))
        }
    }

    func testBPTTBlocksOfTheBackwardDirectionStartAtTheEnd() throws {
        let config: JSONValue = ["hidden": 2, "bidirectional": true, "return_sequences": true]
        let full = try build(SimpleRNN.registration, config)
        let cut = try build(SimpleRNN.registration, ["hidden": 2, "bidirectional": true,
                                                     "return_sequences": true, "bptt": 2])
        let parameters = randomParameters(full), x = random([1, 4, 3], seed: 7)
        // Gradient only on the backward direction's output at t = 0 (its last step read): its
        // block is t = 1, 0, so t = 2, 3 get nothing.
        let dy = Tensor(shape: [1, 4, 4], values: [0, 0, 0.7, -0.4] + [Float](repeating: 0, count: 12))
        let dxFull = gradients(full, x: x, parameters: parameters, dy: dy).0.array
        let dxCut = gradients(cut, x: x, parameters: parameters, dy: dy).0.array
        assertClose(Array(dxCut[0..<6]), Array(dxFull[0..<6]), within: .relative(1e-5))
        XCTAssertEqual(Array(dxCut[6...]), [Float](repeating: 0, count: 6))
        XCTAssertGreaterThan(dxFull[6...].map(abs).max() ?? 0, 1e-4)
    }

    // MARK: - Parameters, shapes, reports

    func testParameterNamesAndLayoutsArePyTorchs() throws {
        let gru = try build(GRU.registration, ["hidden": 4, "layers": 2, "bidirectional": true], [[6, 5]])
        let four = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        XCTAssertEqual(gru.parameterSpecs.map(\.name),
                       ["_l0", "_l0_reverse", "_l1", "_l1_reverse"].flatMap { s in four.map { $0 + s } })
        XCTAssertEqual(gru.parameterSpecs.prefix(4).map(\.shape), [[12, 5], [12, 4], [12], [12]])
        XCTAssertEqual(gru.parameterSpecs[8].shape, [12, 8])
        XCTAssertTrue(gru.parameterSpecs.allSatisfy { $0.initializer == .uniform(bound: 0.5) })
        XCTAssertEqual(gru.outputShape, [8])

        let lstm = try build(LSTM.registration, ["hidden": 4, "peepholes": true, "initial_state": "learned",
                                                 "return_sequences": true], [[6, 5]])
        XCTAssertEqual(lstm.parameterSpecs.map(\.name), four.map { $0 + "_l0" }
                       + ["weight_peep_i_l0", "weight_peep_f_l0", "weight_peep_o_l0", "h0_l0", "c0_l0"])
        XCTAssertEqual(lstm.parameterSpecs.map(\.shape),
                       [[16, 5], [16, 4], [16], [16], [4], [4], [4], [4], [4]])
        XCTAssertEqual(lstm.parameterSpecs.suffix(2).map(\.initializer), [.constant(0), .constant(0)])
        XCTAssertEqual(lstm.outputShape, [6, 4])

        let rnn = try build(SimpleRNN.registration, ["hidden": 4, "bidirectional": true,
                                                     "initial_state": "learned"], [[6, 5]])
        XCTAssertEqual(rnn.parameterSpecs.map(\.name),
                       ["_l0", "_l0_reverse"].flatMap { s in (four + ["h0"]).map { $0 + s } })
        XCTAssertEqual(rnn.parameterSpecs[0].shape, [4, 5])
    }

    func testDetailsAndMACs() throws {
        let gru = try build(GRU.registration, ["hidden": 128], [[28, 28]])
        XCTAssertEqual(gru.details,
                       "gates r,z,n × (28·128 + 128·128 + 2·128) per direction; reset after W_hn (PyTorch)")
        XCTAssertEqual(gru.parameterCount, 3 * (28 * 128 + 128 * 128 + 2 * 128))
        XCTAssertEqual(gru.macs, gru.parameterCount * 28)
        let lstm = try build(LSTM.registration, ["hidden": 8, "layers": 2, "bidirectional": true,
                                                 "peepholes": true], [[5, 3]])
        XCTAssertEqual(lstm.details, "gates i,f,g,o × (3·8 + 8·8 + 2·8) per direction; "
                       + "layers 1…1: × (16·8 + 8·8 + 2·8); 2 directions; peepholes 3·8 per direction; "
                       + "forget bias +1.0")
        XCTAssertEqual(lstm.parameterCount,
                       2 * (4 * (3 * 8 + 8 * 8 + 16) + 24) + 2 * (4 * (16 * 8 + 8 * 8 + 16) + 24))
    }

    // MARK: - Config errors

    func testConfigErrors() {
        XCTAssertEqual(buildError(GRU.registration, ["hidden": 0]), "layer.hidden: must be ≥ 1, got 0")
        XCTAssertEqual(buildError(SimpleRNN.registration, ["hidden": 2, "layers": 0]),
                       "layer.layers: must be in 1...1000, got 0")
        XCTAssertEqual(buildError(GRU.registration, ["hidden": 2], [[5]]),
                       "layer: expects a rank-2 input ([time, features]), got [5]")
        XCTAssertTrue(buildError(LSTM.registration, ["hidden": 2, "reset_after": true]).hasPrefix(
            "layer.reset_after: unknown key \"reset_after\"; valid keys: hidden, layers, bidirectional"))
        XCTAssertTrue(buildError(GRU.registration, ["hidden": 2, "bidirectionnal": true])
            .contains("did you mean \"bidirectional\""))
        XCTAssertTrue(buildError(LSTM.registration, ["hidden": 2, "initial_state": "random"])
            .contains("layer.initial_state: unknown value \"random\"; valid: zero, learned"))
        XCTAssertTrue(buildError(GRU.registration, ["hidden": 2, "dropout": 0.2])
            .hasPrefix("layer.dropout: acts between stacked layers"))
        XCTAssertEqual(buildError(GRU.registration, ["hidden": 2, "layers": 2, "dropout": 1]),
                       "layer.dropout: must be in [0, 1), got 1.0")
        XCTAssertEqual(buildError(SimpleRNN.registration, ["hidden": 2, "bptt": 0]),
                       "layer.bptt: must be ≥ 1, got 0")
    }
}

/// The documented equations, one sample and one step at a time, in Double.
private struct Reference {
    let layer: any RecurrentLayerProtocol
    let p: [String: [Double]]

    init(_ layer: any RecurrentLayerProtocol, _ parameters: [Tensor]) {
        self.layer = layer
        var p: [String: [Double]] = [:]
        for (spec, t) in zip(layer.parameterSpecs, parameters) { p[spec.name] = t.array.map(Double.init) }
        self.p = p
    }

    func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }

    /// Row `row` of a `[rows, v.count]` matrix times `v`.
    func dot(_ w: [Double], _ row: Int, _ v: [Double]) -> Double {
        (0..<v.count).reduce(0) { $0 + w[row * v.count + $1] * v[$1] }
    }

    /// One step: (h, c) from (x, h₋₁, c₋₁) with the parameters of suffix `s`.
    func step(_ x: [Double], _ h: [Double], _ c: [Double], _ s: String) -> ([Double], [Double]) {
        let H = layer.hidden, wi = p["weight_ih" + s]!, wh = p["weight_hh" + s]!
        let bi = p["bias_ih" + s]!, bh = p["bias_hh" + s]!
        func pre(_ row: Int) -> Double { dot(wi, row, x) + bi[row] + dot(wh, row, h) + bh[row] }
        func input(_ row: Int) -> Double { dot(wi, row, x) + bi[row] }
        switch layer {
        case let gru as GRU where gru.resetAfter:
            return ((0..<H).map { j in
                let r = sigmoid(pre(j)), z = sigmoid(pre(H + j))
                let n = tanh(input(2 * H + j) + r * (dot(wh, 2 * H + j, h) + bh[2 * H + j]))
                return (1 - z) * n + z * h[j]
            }, c)
        case is GRU:
            let r = (0..<H).map { sigmoid(pre($0)) }, rh = (0..<H).map { r[$0] * h[$0] }
            return ((0..<H).map { j in
                let z = sigmoid(pre(H + j))
                let n = tanh(input(2 * H + j) + dot(wh, 2 * H + j, rh) + bh[2 * H + j])
                return (1 - z) * h[j] + z * n
            }, c)
        case let lstm as LSTM:
            let peep = { (g: String, j: Int) in lstm.peepholes ? p["weight_peep_\(g)" + s]![j] : 0 }
            var hn = h, cn = c
            for j in 0..<H {
                let i = sigmoid(pre(j) + peep("i", j) * c[j])
                let f = sigmoid(pre(H + j) + Double(lstm.forgetBias) + peep("f", j) * c[j])
                let g = tanh(pre(2 * H + j))
                cn[j] = f * c[j] + i * g
                let o = sigmoid(pre(3 * H + j) + peep("o", j) * cn[j])
                hn[j] = o * tanh(cn[j])
            }
            return (hn, cn)
        default:
            return ((0..<H).map { tanh(pre($0)) }, c)
        }
    }

    /// `x`: T × F; the layer's per-sample output, flattened.
    func run(_ x: [[Double]]) -> [Double] {
        let T = x.count, H = layer.hidden, D = layer.directions
        var input = x, finals: [Double] = []
        for k in 0..<layer.layers {
            var out = [[Double]](repeating: [Double](repeating: 0, count: D * H), count: T)
            finals = []
            for d in 0..<D {
                let s = "_l\(k)" + (d == 1 ? "_reverse" : ""), zero = [Double](repeating: 0, count: H)
                var h = p["h0" + s] ?? zero, c = p["c0" + s] ?? zero
                for t in d == 0 ? Array(0..<T) : Array((0..<T).reversed()) {
                    (h, c) = step(input[t], h, c, s)
                    for j in 0..<H { out[t][d * H + j] = h[j] }
                }
                finals += h
            }
            input = out
        }
        return layer.returnSequences ? input.flatMap { $0 } : finals
    }
}
