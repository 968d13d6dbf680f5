import CNNConfig
import XCTest
@testable import CNNLayers
import CNNCore
import CNNTestSupport

/// `nonlinearity: relu` of the Elman layer (PyTorch `nn.RNN(nonlinearity="relu")`).
final class RNNNonlinearityTests: XCTestCase {
    /// h = max(0, W_ih x + b_ih + W_hh h₋₁ + b_hh) by hand for H = F = 1, T = 3.
    func testReLUStepsFollowPyTorchByHand() throws {
        let layer = try GradientCheck.build(SimpleRNN.registration, config: ["hidden": 1, "nonlinearity": "relu",
                                                                             "return_sequences": true],
                                            inputs: [[3, 1]])
        let parameters = [Tensor(shape: [1, 1], values: [0.5]), Tensor(shape: [1, 1], values: [-1]),
                          Tensor(shape: [1], values: [0.1]), Tensor(shape: [1], values: [-0.2])]
        let x = Tensor(shape: [1, 3, 1], values: [1, 2, -3])
        // h = max(0, 0.5 + 0.1 − 0.2) = 0.4; max(0, 1 + 0.1 − 0.4 − 0.2) = 0.5;
        // max(0, −1.5 + 0.1 − 0.5 − 0.2) = 0.
        let y = GradientCheck.forward(layer, inputs: [x], parameters: parameters, training: false, seed: 1).array
        XCTAssertEqual(y.count, 3)
        for (a, b) in zip(y, [0.4, 0.5, 0] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(layer.details, "gates h × (1·1 + 1·1 + 2·1) per direction; relu")
    }

    /// A step small enough to stay off the kink at 0 for these draws; batch 17 splits the steps
    /// between two parts.
    func testReLUGradients() throws {
        let configs: [JSONValue] = [
            ["hidden": 3, "nonlinearity": "relu"],
            ["hidden": 3, "nonlinearity": "relu", "layers": 2, "bidirectional": true, "return_sequences": true,
             "initial_state": "learned"],
        ]
        for config in configs {
            for batch in [3, 17] {
                let layer = try GradientCheck.build(SimpleRNN.registration, config: config, inputs: [[4, 3]])
                XCTAssertEqual(GradientCheck.check(layer, batch: batch, step: 1e-3), [], "\(config) batch \(batch)")
            }
        }
    }

    func testUnknownNonlinearityIsAConfigError() {
        let error = GradientCheck.buildError(SimpleRNN.registration, config: ["hidden": 2, "nonlinearity": "gelu"],
                                             inputs: [[4, 3]])
        XCTAssertEqual(error?.hasPrefix("layer.nonlinearity: unknown value \"gelu\"; valid: tanh, relu"), true, "\(error ?? "")")
    }
}
