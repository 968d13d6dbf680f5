import CNNConfig
import CNNCore
import CNNAVX512
import CNNTestSupport
import XCTest

@testable import CNNLayers

/// The layers that split their work between the worker pool's parts (convolution, activations,
/// batch norm, pooling, recurrent steps and products) pass every gradient check with two parts,
/// even where the split is uneven (batch 3, 17) and tensors are tiny (grain 1, so every loop
/// splits).
final class ParallelLayerTests: XCTestCase {
    override func setUp() {
        WorkerPool.shared.configure(threads: 2)
        WorkerPool.shared.grain = 1
    }

    override func tearDown() {
        WorkerPool.shared.configure(threads: 1)
        WorkerPool.shared.grain = 1 << 14
    }

    func testEveryRegisteredLayerPassesTheGradientCheckWithTwoParts() throws {
        for registration in LayerRegistry.all where registration.example.standalone {
            for batch in [2, 3] {
                XCTAssertEqual(try GradientCheck.check(registration, batch: batch), [], "\(registration.type), batch \(batch)")
            }
        }
    }

    /// The direct convolutions (on AVX-512; stride 1 and 2, depthwise) with two parts, each with
    /// its own images, workspace slice and private weight gradients.
    func testDirectConvolutionsWithTwoParts() throws {
        let configs: [JSONValue] = [
            ["filters": 9, "kernel": 3, "padding": 1],
            ["filters": 9, "kernel": 3, "padding": 1, "stride": 2],
            ["filters": 3, "kernel": 3, "padding": 1, "groups": 3],
        ]
        for config in configs {
            let layer = try GradientCheck.build(Conv2D.registration, config: config, inputs: [[3, 7, 9]])
            for batch in [2, 3] {
                XCTAssertEqual(GradientCheck.check(layer, batch: batch), [], "\(config), batch \(batch)")
            }
        }
    }

    /// A Winograd convolution with two parts (2 images and 1): each transforms and multiplies its
    /// own images and sums its own transformed weight gradient (steps of 0.5: see
    /// `Conv2DTests.testGradients`).
    func testWinogradConvolutionWithTwoParts() throws {
        let layer = try XCTUnwrap(GradientCheck.build(Conv2D.registration, config: ["filters": 64, "kernel": 3, "padding": 1],
                                                      inputs: [[64, 3, 5]]) as? Conv2D)
        layer.minimumBatch = 1
        XCTAssertEqual(layer.algorithm is WinogradConvolution, WinogradPlan.enabled)
        XCTAssertEqual(GradientCheck.check(layer, batch: 3, step: 0.5), [])
    }

    /// Batch 17 is the smallest that splits a recurrent layer's steps (8 and 9 rows per part) and,
    /// over 4 steps, its products over all steps (34 rows each).
    func testRecurrentLayersSplitTheirStepsAndProducts() throws {
        let cases: [(LayerRegistration, JSONValue)] = [
            (GRU.registration, ["hidden": 3, "layers": 2, "bidirectional": true, "return_sequences": true]),
            (GRU.registration, ["hidden": 3, "reset_after": false, "initial_state": "learned"]),
            (LSTM.registration, ["hidden": 3, "bidirectional": true, "initial_state": "learned"]),
            (LSTM.registration, ["hidden": 3, "peepholes": true]),
            (SimpleRNN.registration, ["hidden": 4, "return_sequences": true]),
        ]
        XCTAssertEqual(17 / RecurrentUnit.minimumPartRows, 2)
        for (registration, config) in cases {
            let layer = try GradientCheck.build(registration, config: config, inputs: [[4, 5]])
            XCTAssertEqual(GradientCheck.check(layer, batch: 17), [], "\(registration.type) \(config)")
        }
    }

    /// Where G·H is a multiple of 64 (on AVX-512) the weights' gradients come from
    /// `TransposedWeightGradient`, each part on its share of the 64-gate panels: LSTM hidden 16
    /// (one panel), GRU hidden 64 (three, split 1 + 2), with a learned initial state and both
    /// directions; GRU with the reset before W_hn makes only dW_ih that way; stacked LSTM layers.
    func testTransposedWeightGradientsPassTheGradientCheck() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the transposed kernel needs AVX-512")
        let cases: [(LayerRegistration, JSONValue)] = [
            (LSTM.registration, ["hidden": 16, "bidirectional": true, "initial_state": "learned"]),
            (GRU.registration, ["hidden": 64, "initial_state": "learned", "return_sequences": true]),
            (GRU.registration, ["hidden": 64, "reset_after": false]),
            (LSTM.registration, ["hidden": 16, "layers": 2, "return_sequences": true]),
        ]
        for (registration, config) in cases {
            let layer = try GradientCheck.build(registration, config: config, inputs: [[3, 4]])
            XCTAssertEqual(GradientCheck.check(layer, batch: 9), [], "\(registration.type) \(config)")
        }
    }

    /// Batches of 8 rows and more multiply by W_ih and W_hh packed once per pass (on AVX-512):
    /// hidden 20 puts a full and a partial vector into each 48-column panel's last columns, batch
    /// 9 a full and a one-row block; GRU's `dh₋₁` adds into its carry, LSTM's and RNN's overwrite it.
    func testPackedStepProductsPassTheGradientCheck() throws {
        let cases: [(LayerRegistration, JSONValue)] = [
            (GRU.registration, ["hidden": 20, "return_sequences": true]),
            (LSTM.registration, ["hidden": 20]),
            (SimpleRNN.registration, ["hidden": 20]),
        ]
        XCTAssertGreaterThanOrEqual(9, PackedMatrix.minimumRows)
        for (registration, config) in cases {
            let layer = try GradientCheck.build(registration, config: config, inputs: [[3, 4]])
            XCTAssertEqual(GradientCheck.check(layer, batch: 9), [], "\(registration.type) \(config)")
        }
    }

    /// Truncated BPTT is no true gradient, so no finite difference can check it: a part's carry
    /// must be cut exactly as the whole batch's is, so one and two parts must agree.
    func testTruncatedBPTTGivesTheSameGradientsInParts() throws {
        let cases: [(LayerRegistration, JSONValue)] = [
            (GRU.registration, ["hidden": 3, "reset_after": false, "initial_state": "learned", "bptt": 2]),
            (LSTM.registration, ["hidden": 3, "bptt": 2]),
            (SimpleRNN.registration, ["hidden": 4, "return_sequences": true, "bptt": 3]),
        ]
        for (registration, config) in cases {
            let whole = try gradients(GradientCheck.build(registration, config: config, inputs: [[6, 5]]), threads: 1)
            let parts = try gradients(GradientCheck.build(registration, config: config, inputs: [[6, 5]]), threads: 2)
            XCTAssertEqual(whole.count, parts.count)
            for (a, b) in zip(whole, parts) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(registration.type) \(config)") }
        }
    }

    /// Input and parameter gradients of one seeded forward and backward at batch 17.
    private func gradients(_ layer: any Layer, threads: Int) -> [Float] {
        WorkerPool.shared.configure(threads: threads)
        var rng = RNG(seed: 5)
        func random(_ shape: Shape) -> Tensor {
            let t = Tensor(shape: shape)
            for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) }
            return t
        }
        let x = random(layer.inputShapes[0].batched(17)), dy = random(layer.outputShape.batched(17))
        let parameters = layer.parameterSpecs.map { random($0.shape) }, grads = parameters.map { Tensor(shape: $0.shape) }
        layer.bind(parameters: parameters, gradients: grads)
        let workspace = Tensor(shape: [max(layer.workspaceSize(batch: 17), 1)])
        var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1), workspace: workspace.data,
                                       workspaceCount: workspace.count)
        context.saved = SavedState(allocating: layer.savedStateFloats(batch: 17))
        let y = Tensor(shape: layer.outputShape.batched(17)), dx = Tensor(shape: x.shape)
        layer.forward(inputs: [x], output: y, context: &context)
        layer.backward(inputs: [x], output: y, outputGradient: dy, inputGradients: [dx], context: &context)
        return dx.array + grads.flatMap(\.array)
    }

    func testConvolutionsPassTheGradientCheckWithTwoParts() throws {
        let cases: [(JSONValue, Shape)] = [
            (["filters": 4, "kernel": 3, "padding": 1], [3, 6, 5]),            // lowered
            (["filters": 4, "kernel": 1], [3, 4, 4]),                           // pointwise
            (["filters": 6, "kernel": 3, "groups": 3, "stride": 2], [3, 7, 7]),  // depthwise
            (["filters": 4, "kernel": 3, "groups": 2, "bias": false], [4, 5, 5]),
        ]
        for (config, shape) in cases {
            let layer = try GradientCheck.build(Conv2D.registration, config: config, inputs: [shape])
            XCTAssertEqual(GradientCheck.check(layer, batch: 3), [], "\(config)")
        }
    }
}
