import CNNConfig
import CNNCore
import CNNTestSupport
import XCTest
@testable import CNNLayers

/// `bias: "single"`: Keras' one bias vector per layer and direction, the same model as PyTorch's
/// two for an LSTM or RNN (b_hh only adds to b_ih), refused for a GRU.
final class RecurrentBiasTests: XCTestCase {
    private func build(_ registration: LayerRegistration, _ config: JSONValue, input: Shape = [4, 3]) throws -> any Layer {
        try GradientCheck.build(registration, config: config, inputs: [input])
    }

    /// Keras' `Embedding(10000, 32) → LSTM(32) → Dense(1)` (Chollet, "Deep Learning with Python",
    /// §6.2): model.summary() lists 8,320 LSTM parameters, 4·(32·32 + 32·32 + 32).
    func testKerasLSTMCount() throws {
        let lstm = try build(LSTM.registration, ["hidden": 32, "bias": "single"], input: [500, 32])
        XCTAssertEqual(lstm.parameterCount, 8_320)
        XCTAssertEqual(lstm.parameterSpecs.map(\.name), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"])
        XCTAssertEqual(try build(LSTM.registration, ["hidden": 32], input: [500, 32]).parameterCount, 8_448)
    }

    /// The single-bias layer computes what the two-bias one does with b_hh = 0, for every
    /// direction and stacked layer, and its gradients pass the finite-difference check.
    func testSingleBiasIsDoubleBiasWithZeroRecurrentBias() throws {
        let config: JSONValue = ["hidden": 3, "layers": 2, "bidirectional": true, "return_sequences": true]
        for registration in [LSTM.registration, SimpleRNN.registration] {
            var single = config.objectValue!
            single["bias"] = "single"
            let a = try build(registration, .object(single)), b = try build(registration, config)
            var rng = RNG(seed: 5)
            let pa = a.parameterSpecs.map { Tensor(shape: $0.shape) }
            for t in pa { for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) } }
            var k = 0
            let pb = b.parameterSpecs.map { spec -> Tensor in
                if spec.name.hasPrefix("bias_hh") { return Tensor(shape: spec.shape) }
                defer { k += 1 }
                return pa[k]
            }
            let x = Tensor(shape: [2, 4, 3], values: (0..<24).map { _ in rng.uniform(bound: 1) })
            let ya = GradientCheck.forward(a, inputs: [x], parameters: pa), yb = GradientCheck.forward(b, inputs: [x], parameters: pb)
            XCTAssertEqual(ya.array, yb.array, registration.type)
            XCTAssertEqual(GradientCheck.check(try build(registration, .object(single))), [], registration.type)
        }
    }

    func testGRURefusesASingleBias() {
        XCTAssertEqual(GradientCheck.buildError(GRU.registration, config: ["hidden": 3, "bias": "single"], inputs: [[4, 3]]),
                       "layer.bias: a gru's b_hn is multiplied by the reset gate, so it cannot fold into b_ih; use \"double\"")
    }
}
