import CNNConfig
import CNNCore
import CNNLayers
import CNNTestSupport
import XCTest
@testable import CNNGraph

/// The dense block: the same numbers as the stored concatenation it avoids (concat → batch norm
/// → ReLU → 1x1 conv as separate nodes), names as torchvision's, and memory linear in depth.
final class DenseBlockTests: XCTestCase {
    private let stem = #"{"type": "conv2d", "name": "stem", "filters": 3, "kernel": 1}, {"type": "conv2d", "name": "new", "filters": 2, "kernel": 3, "padding": 1}"#

    /// dense_bottleneck against the primitives it fuses, forward and backward, training and
    /// inference: same parameters (one arena layout), same input, same output gradient.
    func testBottleneckEqualsConcatBatchNormReLUConv() throws {
        let fused = try build(stem + #", {"type": "dense_bottleneck", "name": "d", "filters": 4, "inputs": ["stem", "new"]}"#,
                              input: "[2, 5, 5]")
        let plain = try build(stem + #"""
            , {"type": "concat", "inputs": ["stem", "new"]}, {"type": "batchnorm", "name": "n"}, {"type": "relu"},
            {"type": "conv2d", "name": "c", "filters": 4, "kernel": 1, "bias": false}
            """#, input: "[2, 5, 5]")
        let a = Executor(graph: fused, maxBatch: 3, seed: 4), b = Executor(graph: plain, maxBatch: 3, seed: 4)
        XCTAssertEqual(a.parameters.count, b.parameters.count)
        var rng = RNG(seed: 9)
        for i in 0..<a.parameters.count { a.parameters.data[i] = rng.uniform(bound: 1) }
        for (k, p) in fused.parameters.enumerated() where p.name.hasSuffix("running_var") {
            for i in 0..<p.spec.shape.count { a.parameters.data[a.parameterOffsets[k] + i] += 1.5 }
        }
        b.parameters.data.update(from: a.parameters.data, count: a.parameters.count)
        let x = Tensor(shape: [3, 2, 5, 5]), dy = Tensor(shape: [3, 4, 5, 5])
        for i in 0..<x.count { x.data[i] = rng.uniform(bound: 1) }
        for i in 0..<dy.count { dy.data[i] = rng.uniform(bound: 1) }
        for training in [true, false] {
            var r1 = RNG(seed: 1), r2 = RNG(seed: 1)
            let ya = a.forward(x, training: training, rng: &r1)[0], yb = b.forward(x, training: training, rng: &r2)[0]
            assertClose(ya.array, yb.array.map(Double.init), within: .absolute(1e-5), "forward, training \(training)")
            a.zeroGradients(); b.zeroGradients()
            a.backward(x, outputGradients: [dy], rng: &r1)
            b.backward(x, outputGradients: [dy], rng: &r2)
            assertClose(a.gradients.array, b.gradients.array.map(Double.init), within: .absolute(1e-4),
                        "parameter gradients, training \(training)")
            assertClose(a.parameters.array, b.parameters.array.map(Double.init), within: .absolute(1e-6),
                        "running statistics, training \(training)")
        }
    }

    /// The block's activations grow by the same amount with every layer (linear in depth): each
    /// layer adds its bottleneck (bn_size·k maps, its norm and ReLU) and k new maps, and only the
    /// block's output concatenation holds all of them.
    func testMemoryIsLinearInDepth() throws {
        func floats(_ layers: Int) throws -> Int {
            let g = try build(#"{"type": "dense_block", "name": "b", "layers": \#(layers), "growth_rate": 4, "bn_size": 2}"#,
                              input: "[8, 6, 6]")
            return Summary.make(g).activationBytes / 4
        }
        let (k, area, width) = (4, 36, 2 * 4)
        for layers in [1, 5, 20] {
            XCTAssertEqual(try floats(layers + 1) - floats(layers), (3 * width + k) * area + k * area, "\(layers) layers")
        }
    }

    func testNamesAreTorchvisions() throws {
        let g = try build(#"{"type": "dense_block", "name": "denseblock1", "layers": 2, "growth_rate": 4}, {"type": "dense_transition", "name": "transition1"}"#,
                          input: "[8, 6, 6]")
        XCTAssertEqual(g.parameters.map(\.name).filter { $0.hasPrefix("denseblock1.denselayer2.") }, [
            "denseblock1.denselayer2.norm1.weight", "denseblock1.denselayer2.norm1.bias",
            "denseblock1.denselayer2.norm1.running_mean", "denseblock1.denselayer2.norm1.running_var",
            "denseblock1.denselayer2.conv1.weight", "denseblock1.denselayer2.norm2.weight",
            "denseblock1.denselayer2.norm2.bias", "denseblock1.denselayer2.norm2.running_mean",
            "denseblock1.denselayer2.norm2.running_var", "denseblock1.denselayer2.conv2.weight"])
        XCTAssertEqual(shape(g, "denseblock1.concat"), [16, 6, 6])
        XCTAssertEqual(inputs(g, "denseblock1.denselayer2"), ["input", "denseblock1.denselayer1.conv2"])
        XCTAssertEqual(shape(g, "transition1.pool"), [8, 3, 3])
    }

    func testConfigMistakesAreNamed() {
        XCTAssertEqual(error(#"{"type": "dense_block", "name": "b", "layers": 0, "growth_rate": 4}"#),
                       "m.json: model.layers[0] (dense_block \"b\").layers: must be in 1...1000, got 0")
        XCTAssertEqual(error(#"{"type": "dense_block", "name": "b", "layers": 2, "growth_rate": 0}"#),
                       "m.json: model.layers[0] (dense_block \"b\").growth_rate: must be ≥ 1, got 0")
        XCTAssertEqual(error(#"{"type": "dense_transition", "name": "t", "compression": 0.5, "filters": 2}"#),
                       "m.json: model.layers[0] (dense_transition \"t\").filters: give \"compression\" or \"filters\", not both")
        XCTAssertEqual(error(#"{"type": "dense_transition", "name": "t", "compression": 0.2}"#),
                       "m.json: model.layers[0] (dense_transition \"t\").compression: leaves 0 channels of 3")
        XCTAssertEqual(error(#"{"type": "flatten"}, {"type": "dense_block", "name": "b", "layers": 2, "growth_rate": 4}"#),
                       "m.json: model.layers[1] (dense_block \"b\"): expects maps [C, H, W], got [192]")
    }
}
