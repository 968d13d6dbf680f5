import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

final class NormalizationLayersTests: XCTestCase {
    private let bn = BatchNorm.registration, ln = LayerNorm.registration
    private let gn = GroupNorm.registration, lrn = LocalResponseNorm.registration

    private func build(_ reg: LayerRegistration, _ config: JSONValue,
                       _ input: Shape) throws -> any Layer {
        try GradientCheck.build(reg, config: config, inputs: [input])
    }

    private func assertConfigError(_ reg: LayerRegistration, _ config: JSONValue, _ input: Shape,
                                   contains parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try build(reg, config, input), line: line) { error in
            let text = "\(error)"
            for part in parts {
                XCTAssertTrue(text.contains(part), "\(text) lacks \(part)", line: line)
            }
        }
    }

    /// Normalises `x` (laid out `[rows, channels, inner]`) per channel with biased statistics.
    private func naiveChannelNorm(_ x: [Float], rows: Int, channels: Int, inner: Int,
                                  eps: Float = 1e-5) -> [Float] {
        var y = x
        for c in 0..<channels {
            let idx = (0..<rows).flatMap { r in (0..<inner).map { (r * channels + c) * inner + $0 } }
            let m = idx.map { x[$0] }.reduce(0, +) / Float(idx.count)
            let v = idx.map { (x[$0] - m) * (x[$0] - m) }.reduce(0, +) / Float(idx.count)
            for i in idx { y[i] = (x[i] - m) / (v + eps).squareRoot() }
        }
        return y
    }

    /// Deterministic, uneven values in [−1, 2].
    private func ramp(_ shape: Shape,
                      _ f: (Int) -> Float = { Float(($0 * 7) % 11) * 0.3 - 1 }) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.count).map(f))
    }

    // MARK: - BatchNorm

    func testBatchNormGradients() throws {
        XCTAssertEqual(try GradientCheck.check(BatchNorm.registration), [])
        let image = try build(bn, [:], [3, 5, 3])
        XCTAssertEqual(GradientCheck.check(image, batch: 3, training: false), [])
        for input: Shape in [[5], [3, 5]] {
            for affine in [true, false] {
                let layer = try build(bn, ["affine": .bool(affine)], input)
                XCTAssertEqual(GradientCheck.check(layer, batch: 3), [], "\(input) affine \(affine)")
                XCTAssertEqual(GradientCheck.check(layer, batch: 3, training: false), [])
            }
        }
    }

    func testBatchNormParametersAndMacs() throws {
        let layer = try build(bn, [:], [3, 5, 3])
        let specs = layer.parameterSpecs
        XCTAssertEqual(specs.map(\.name), ["weight", "bias", "running_mean", "running_var"])
        XCTAssertEqual(specs.map(\.role),
                       [.normScale, .normShift, .runningStatistic, .runningStatistic])
        XCTAssertEqual(specs.map(\.initializer),
                       [.constant(1), .constant(0), .constant(0), .constant(1)])
        XCTAssertEqual(specs.map(\.isTrainable), [true, true, false, false])
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), Array(repeating: [3], count: 4))
        XCTAssertEqual(layer.outputShape, [3, 5, 3])
        XCTAssertEqual(layer.macs, 6)
        let plain = try build(bn, ["affine": false], [4, 7])
        XCTAssertEqual(plain.parameterSpecs.map(\.name), ["running_mean", "running_var"])
        XCTAssertEqual(plain.parameterSpecs.map(\.shape), [[7], [7]])
        XCTAssertEqual(plain.macs, 0)
    }

    /// x: 3 samples of 2 features. Feature 0 = [1, 2, 6]: mean 3, biased var 14/3, unbiased 7.
    /// Feature 1 = [0, 0, 3]: mean 1, biased var 2, unbiased 3.
    func testBatchNormTrainingForwardAndRunningUpdate() throws {
        let layer = try build(bn, ["eps": 0.001], [2])
        let params = [Tensor(shape: [2], values: [2, 1]), Tensor(shape: [2], values: [0.5, 0]),
                      Tensor(shape: [2], values: [0, 0]), Tensor(shape: [2], values: [1, 1])]
        let x = Tensor(shape: [3, 2], values: [1, 0, 2, 0, 6, 3])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: params, training: true)
        let s0 = 1 / (14 / 3 + 0.001 as Float).squareRoot(), s1 = 1 / (2.001 as Float).squareRoot()
        assertClose(y, [2 * -2 * s0 + 0.5, -s1, 2 * -s0 + 0.5, -s1, 2 * 3 * s0 + 0.5, 2 * s1],
                    within: .absolute(1e-4))
        // PyTorch: running = 0.9·running + 0.1·batch, with the unbiased variance.
        assertClose(params[2], [0.3, 0.1], within: .absolute(1e-6))
        assertClose(params[3], [1.6, 1.2], within: .absolute(1e-6))
        _ = GradientCheck.forward(layer, inputs: [x], parameters: params, training: true)
        assertClose(params[2], [0.57, 0.19], within: .absolute(1e-6))
        assertClose(params[3], [2.14, 1.38], within: .absolute(1e-6))
    }

    func testBatchNormInferenceUsesRunningStatistics() throws {
        let layer = try build(bn, ["momentum": 0.3], [2, 1, 3])
        let params = [Tensor(shape: [2], values: [2, -1]), Tensor(shape: [2], values: [0.5, 1]),
                      Tensor(shape: [2], values: [1, -1]), Tensor(shape: [2], values: [4, 0.25])]
        let x = ramp([2, 2, 1, 3])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: params, training: false)
        let expected = x.array.enumerated().map { i, v -> Float in
            let c = (i / 3) % 2
            let (g, b, m, s): (Float, Float, Float, Float) =
                c == 0 ? (2, 0.5, 1, 4) : (-1, 1, -1, 0.25)
            return (v - m) / (s + 1e-5).squareRoot() * g + b
        }
        assertClose(y, expected, within: .absolute(1e-4))
        XCTAssertEqual(params[2].array, [1, -1], "inference must not update running statistics")
        XCTAssertEqual(params[3].array, [4, 0.25])
    }

    func testBatchNormNormalisesChannelsAndSequenceFeatures() throws {
        let image = try build(bn, ["affine": false], [3, 3, 5])
        let xi = ramp([2, 3, 3, 5])
        let stats = [Tensor(shape: [3]), Tensor(shape: [3])]
        let yi = GradientCheck.forward(image, inputs: [xi], parameters: stats, training: true)
        assertClose(yi, naiveChannelNorm(xi.array, rows: 2, channels: 3, inner: 15), within: .absolute(1e-4))
        let sequence = try build(bn, ["affine": false], [5, 3])
        let xs = ramp([2, 5, 3]) { Float(($0 * 5) % 13) * 0.2 }
        let ys = GradientCheck.forward(sequence, inputs: [xs], parameters: stats, training: true)
        assertClose(ys, naiveChannelNorm(xs.array, rows: 10, channels: 3, inner: 1), within: .absolute(1e-4))
    }

    func testBatchNormConfigErrors() {
        assertConfigError(bn, ["momentum": 1.5], [3, 5, 5],
                          contains: ["layer.momentum", "must be in [0, 1]"])
        assertConfigError(bn, ["eps": 0], [3], contains: ["layer.eps", "must be > 0"])
        assertConfigError(bn, ["momentm": 0.1], [3], contains: ["unknown key", "momentum"])
    }

    // MARK: - LayerNorm

    func testLayerNormGradients() throws {
        XCTAssertEqual(try GradientCheck.check(LayerNorm.registration), [])
        let configs: [(JSONValue, Shape)] = [([:], [3, 3, 5]), (["normalized_dims": 1], [3, 5]),
                                             (["elementwise_affine": false], [7])]
        for (config, input) in configs {
            let layer = try build(ln, config, input)
            XCTAssertEqual(GradientCheck.check(layer, batch: 3), [], "\(config)")
        }
    }

    func testLayerNormForwardAndShapes() throws {
        let layer = try build(ln, ["normalized_dims": 1], [2, 3])
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), [[3], [3]])
        XCTAssertEqual(layer.parameterSpecs.map(\.role), [.normScale, .normShift])
        XCTAssertEqual(layer.macs, 6)
        let params = [Tensor(shape: [3], values: [1, 2, 3]), Tensor(shape: [3], values: [0, 1, 0])]
        let x = Tensor(shape: [1, 2, 3], values: [1, 2, 3, 5, 5, 8])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: params)
        // Row 1: mean 2, var 2/3; row 2: mean 6, var 2.
        let s1 = 1 / (2 / 3 + 1e-5 as Float).squareRoot(), s2 = 1 / (2 + 1e-5 as Float).squareRoot()
        assertClose(y, [-s1, 1, 3 * s1, -s2, 1 - 2 * s2, 3 * 2 * s2], within: .absolute(1e-4))
        let all = try build(ln, [:], [2, 3, 5])
        XCTAssertEqual(all.parameterSpecs.map(\.shape), [[2, 3, 5], [2, 3, 5]])
        let xa = ramp([2, 2, 3, 5])
        let ya = GradientCheck.forward(try build(ln, ["elementwise_affine": false],
                                                 [2, 3, 5]), inputs: [xa], parameters: [])
        assertClose(ya, naiveChannelNorm(xa.array, rows: 1, channels: 2, inner: 30), within: .absolute(1e-4))
    }

    func testLayerNormConfigErrors() {
        assertConfigError(ln, ["normalized_dims": 4], [2, 3, 5],
                          contains: ["layer.normalized_dims", "must be in 1...3", "got 4"])
        assertConfigError(ln, ["normalized_dims": 0], [5],
                          contains: ["layer.normalized_dims"])
        assertConfigError(ln, ["eps": -1], [5], contains: ["layer.eps"])
    }

    // MARK: - GroupNorm

    func testGroupNormGradients() throws {
        XCTAssertEqual(try GradientCheck.check(GroupNorm.registration), [])
        let configs: [JSONValue] = [["groups": 1], ["groups": 6], ["groups": 3, "affine": false]]
        for config in configs {
            XCTAssertEqual(GradientCheck.check(try build(gn, config, [6, 3, 3])), [],
                           "\(config)")
        }
    }

    func testGroupNormForward() throws {
        let layer = try build(gn, ["groups": 2], [4, 1, 3])
        XCTAssertEqual(layer.parameterSpecs.map(\.name), ["weight", "bias"])
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), [[4], [4]])
        XCTAssertEqual(layer.macs, 8)
        let gamma: [Float] = [1, 2, -1, 0.5], beta: [Float] = [0, 1, 2, 3]
        let params = [Tensor(shape: [4], values: gamma), Tensor(shape: [4], values: beta)]
        let x = ramp([2, 4, 1, 3])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: params)
        // Each (sample, group) is a contiguous run of 2 channels × 3 positions.
        let normalised = naiveChannelNorm(x.array, rows: 1, channels: 4, inner: 6, eps: 1e-5)
        let expected = normalised.enumerated().map { i, v in
            v * gamma[(i / 3) % 4] + beta[(i / 3) % 4]
        }
        assertClose(y, expected, within: .absolute(1e-4))
        // groups = 1 without affine is LayerNorm over the whole sample.
        let g1 = try build(gn, ["groups": 1, "affine": false], [4, 1, 3])
        let ln = try build(ln, ["elementwise_affine": false], [4, 1, 3])
        assertClose(GradientCheck.forward(g1, inputs: [x], parameters: []).array,
                    GradientCheck.forward(ln, inputs: [x], parameters: []).array, within: .absolute(1e-6))
    }

    func testGroupNormConfigErrors() {
        assertConfigError(gn, ["groups": 3], [4, 5, 5],
                          contains: ["layer.groups", "divide the input channels (4)", "got 3"])
        assertConfigError(gn, ["groups": 0], [4, 5, 5], contains: ["layer.groups"])
        assertConfigError(gn, [:], [4, 5, 5], contains: ["missing required key \"groups\""])
    }

    // MARK: - LocalResponseNorm

    func testLRNGradients() throws {
        XCTAssertEqual(try GradientCheck.check(LocalResponseNorm.registration), [])
        for size in [1, 2, 4, 5, 8] {
            let layer = try build(lrn,
                                  ["size": .int(size), "alpha": 0.8, "beta": 0.6, "k": 1], [5, 3, 3])
            XCTAssertEqual(GradientCheck.check(layer), [], "size \(size)")
        }
    }

    /// PyTorch's formulation: pad a² with ⌊n/2⌋ zero channels before and ⌊(n−1)/2⌋ after,
    /// average over n, `b = a / (k + α·avg)^β`.
    private func pytorchLRN(_ x: [Float], channels: Int, plane: Int, n: Int, alpha: Float,
                            beta: Float, k: Float) -> [Float] {
        let samples = x.count / (channels * plane)
        var y = x
        for b in 0..<samples {
            for i in 0..<plane {
                let a = (0..<channels).map { x[(b * channels + $0) * plane + i] }
                let padded = [Float](repeating: 0, count: n / 2) + a.map { $0 * $0 }
                    + [Float](repeating: 0, count: (n - 1) / 2)
                for c in 0..<channels {
                    let avg = padded[c..<c + n].reduce(0, +) / Float(n)
                    y[(b * channels + c) * plane + i] = a[c] / pow(k + alpha * avg, beta)
                }
            }
        }
        return y
    }

    func testLRNForwardMatchesPyTorch() throws {
        let defaults = try build(lrn, [:], [3, 5, 5]) as! LocalResponseNorm
        XCTAssertEqual([defaults.alpha, defaults.beta, defaults.k], [1e-4, 0.75, 2])
        XCTAssertEqual(defaults.size, 5)
        XCTAssertEqual(defaults.macs, 0)
        XCTAssertEqual(defaults.parameterSpecs, [])
        // Hand example, n = 2, α = β = k = 1, a = [1, 2]: s = [1 + 1/2, 1 + 5/2].
        let tiny = try build(lrn,
                             ["size": 2, "alpha": 1, "beta": 1, "k": 1], [2, 1, 1])
        let yt = GradientCheck.forward(tiny, inputs: [Tensor(shape: [1, 2, 1, 1], values: [1, 2])],
                                       parameters: [])
        assertClose(yt, [1 / 1.5, 2 / 3.5], within: .absolute(1e-6))
        for n in [3, 4] {
            let layer = try build(lrn,
                                  ["size": .int(n), "alpha": 0.7, "beta": 0.75, "k": 1.5], [6, 1, 3])
            let x = ramp([2, 6, 1, 3])
            let y = GradientCheck.forward(layer, inputs: [x], parameters: [])
            assertClose(y, pytorchLRN(x.array, channels: 6, plane: 3, n: n, alpha: 0.7, beta: 0.75, k: 1.5),
                        within: .absolute(1e-4))
        }
    }

    func testLRNConfigErrors() {
        assertConfigError(lrn, ["size": 0], [3, 5, 5],
                          contains: ["layer.size", "must be ≥ 1"])
        assertConfigError(lrn, ["k": 0], [3, 5, 5], contains: ["layer.k", "> 0"])
        assertConfigError(lrn, ["alpha": -1], [3, 5, 5], contains: ["layer.alpha"])
        assertConfigError(lrn, [:], [5], contains: ["channels-first"])
    }
}

/// The synchronized batch-norm path (`BatchNormSync.swift`) against the plain one: two processes
/// holding the same share `x` (a reducer that doubles every sum) must compute what one process
/// computes on the batch `[x; x]` — outputs, input gradients and running statistics alike, and
/// half the parameter gradients (the other half comes from the other process's allreduce).
final class SynchronizedBatchNormTests: XCTestCase {
    final class TwoIdenticalProcesses: StatisticsReducer {
        var calls = 0
        func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {
            calls += 1
            for i in 0..<count { values[i] *= 2 }
        }
    }

    /// Forward and backward in training on `copies` copies of one batch of 2; the first copy's
    /// output and input gradient, the parameters (running statistics updated) and their gradients.
    private func run(copies: Int, _ reducer: (any StatisticsReducer)?) throws -> (y: [Float], dx: [Float], params: [Float], grads: [Float]) {
        let layer = try GradientCheck.build(BatchNorm.registration, config: ["momentum": 0.3], inputs: [[3, 4, 5]])
        let params = layer.parameterSpecs.map { Tensor(shape: $0.shape) }, grads = layer.parameterSpecs.map { Tensor(shape: $0.shape) }
        for (p, spec) in zip(params, layer.parameterSpecs) {
            for i in 0..<p.count { p.data[i] = spec.name == "running_var" ? 1 + 0.1 * Float(i) : 0.2 * Float(i % 5) - 0.3 }
        }
        layer.bind(parameters: params, gradients: grads)
        let n = 2 * copies, shape: Shape = [n, 3, 4, 5]
        let x = Tensor(shape: shape, values: (0..<shape.count).map { Float((($0 % 120) * 37) % 23) * 0.21 - 2 })
        let dy = Tensor(shape: shape, values: (0..<shape.count).map { Float((($0 % 120) * 11) % 7) - 3 })
        let y = Tensor(shape: shape), dx = Tensor(shape: shape), workspace = Tensor(shape: [16])
        var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1), workspace: workspace.data, workspaceCount: 16)
        context.saved = SavedState(allocating: layer.savedStateFloats(batch: n))
        context.statisticsReducer = reducer
        layer.forward(inputs: [x], output: y, context: &context)
        layer.backward(inputs: [x], output: y, outputGradient: dy, inputGradients: [dx], context: &context)
        return (Array(y.array.prefix(120)), Array(dx.array.prefix(120)), params.flatMap(\.array), grads.flatMap(\.array))
    }

    func testTwoIdenticalSharesMatchTheDoubledBatch() throws {
        let reducer = TwoIdenticalProcesses()
        let synchronized = try run(copies: 1, reducer), whole = try run(copies: 2, nil)
        XCTAssertEqual(reducer.calls, 2, "one sum in forward, one in backward")
        func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), what) }
        }
        assertClose(synchronized.y, whole.y, "output")
        assertClose(synchronized.dx, whole.dx, "input gradient")
        assertClose(synchronized.params, whole.params, "parameters and running statistics")
        assertClose(synchronized.grads.map { 2 * $0 }, whole.grads, "parameter gradients, summed over the two")
        // Without the reducer the share alone is another model: the check can fail.
        XCTAssertNotEqual(try run(copies: 1, nil).params, whole.params)
    }
}
