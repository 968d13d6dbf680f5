import Foundation
import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

final class ActivationTests: XCTestCase {
    // MARK: - Helpers

    func registration(_ type: String) throws -> LayerRegistration {
        try XCTUnwrap(Activation.registrations.first { $0.type == type }, "no registration \(type)")
    }

    /// The layer's outputs at `points`, as one sample of shape `[points.count]`.
    func outputs(_ type: String, config: JSONValue = [:], at points: [Float]) throws -> [Float] {
        let layer = try GradientCheck.build(registration(type), config: config,
                                            inputs: [[points.count]])
        let x = Tensor(shape: [1, points.count], values: points)
        return GradientCheck.forward(layer, inputs: [x], parameters: []).array
    }

    func configError(_ reg: LayerRegistration, _ config: JSONValue,
                     inputs: [Shape] = [[4]]) -> String {
        do {
            _ = try GradientCheck.build(reg, config: config, inputs: inputs)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Activation gradients

    func testEveryRegistrationPassesGradientCheck() throws {
        let types = Activation.registrations.map(\.type)
        XCTAssertEqual(types, ["relu", "relu6", "leaky_relu", "elu", "tanh", "sigmoid", "swish",
                               "silu", "hard_swish", "hard_sigmoid", "gelu"])
        for reg in Activation.registrations {
            XCTAssertEqual(try GradientCheck.check(reg), [], reg.type)
        }
    }

    func testDefaultsAndIdentityPassGradientCheck() throws {
        for f in Activation.Function.allCases {
            var context = LayerBuildContext(name: "act", inputShapes: [[2, 3, 5]], config: [:], path: "act", file: nil)
            let layer = try Activation(f, context: &context)
            XCTAssertEqual(layer.type, f.rawValue)
            XCTAssertEqual(layer.outputShape, [2, 3, 5])
            XCTAssertEqual(layer.macs, 0)
            XCTAssertEqual(GradientCheck.check(layer, spacedInputs: true), [], f.rawValue)
        }
    }

    func testSequenceInputKeepsShape() throws {
        let layer = try GradientCheck.build(registration("gelu"), inputs: [[7, 3]])
        XCTAssertEqual(layer.outputShape, [7, 3])
        XCTAssertEqual(GradientCheck.check(layer), [])
    }

    // MARK: - Activation values

    func testPiecewiseValues() throws {
        let points: [Float] = [-7, -2, -0.5, 0.5, 2.5, 7]
        assertClose(try outputs("relu", at: points), [0, 0, 0, 0.5, 2.5, 7], within: .absolute(1e-5))
        assertClose(try outputs("relu6", at: points), [0, 0, 0, 0.5, 2.5, 6], within: .absolute(1e-5))
        assertClose(try outputs("leaky_relu", at: points), [-0.07, -0.02, -0.005, 0.5, 2.5, 7],
                    within: .absolute(1e-5))
        assertClose(try outputs("leaky_relu", config: ["negative_slope": 0.2], at: points),
                    [-1.4, -0.4, -0.1, 0.5, 2.5, 7], within: .absolute(1e-5))
        // hard_sigmoid: 0 below −3, 1 above 3, x/6 + 1/2 between.
        assertClose(try outputs("hard_sigmoid", at: [-3.5, -1, 0, 1, 3.5]),
                    [0, 1 / 3, 0.5, 2 / 3, 1], within: .absolute(1e-5))
        assertClose(try outputs("hard_swish", at: [-4, -2, -1, 1, 2, 4]),
                    [0, -1 / 3, -1 / 3, 0.6666667, 5 / 3, 4], within: .absolute(1e-5))
    }

    func testSmoothValues() throws {
        let e1: Float = 0.36787944  // e⁻¹
        assertClose(try outputs("elu", at: [-1, 0, 2]), [e1 - 1, 0, 2], within: .absolute(1e-5))
        assertClose(try outputs("elu", config: ["alpha": 2], at: [-1, 3]), [2 * (e1 - 1), 3],
                    within: .absolute(1e-5))
        assertClose(try outputs("gelu", at: [-1, 0, 1, 2]), [-0.15865526, 0, 0.8413447, 1.9544997],
                    within: .absolute(1e-5))
        assertClose(try outputs("tanh", at: [-0.5, 0, 0.5]), [-0.46211716, 0, 0.46211716],
                    within: .absolute(1e-5))
        assertClose(try outputs("sigmoid", at: [-2, 0, 2]), [0.11920292, 0.5, 0.8807971],
                    within: .absolute(1e-5))
        let swish: [Float] = [-0.26894142, 0, 0.7310586]
        assertClose(try outputs("swish", at: [-1, 0, 1]), swish, within: .absolute(1e-5))
        assertClose(try outputs("silu", at: [-1, 0, 1]), swish, within: .absolute(1e-5))
    }

    func testSaturationStaysFinite() throws {
        assertClose(try outputs("sigmoid", at: [-200, 200]), [0, 1], within: .absolute(1e-5))
        assertClose(try outputs("swish", at: [-200, 200]), [0, 200], within: .absolute(1e-5))
        assertClose(try outputs("tanh", at: [-200, 200]), [-1, 1], within: .absolute(1e-5))
        assertClose(try outputs("gelu", at: [-200, 200]), [0, 200], within: .absolute(1e-5))
        assertClose(try outputs("elu", at: [-200]), [-1], within: .absolute(1e-5))
    }

    func testSiluAndSwishAreDistinctTypesOfOneFunction() throws {
        XCTAssertEqual(try GradientCheck.build(registration("silu")).type, "silu")
        XCTAssertEqual(try GradientCheck.build(registration("swish")).type, "swish")
        XCTAssertEqual(Activation.Function(rawValue: "silu"), .silu)
    }

    // MARK: - Activation config errors

    func testUnknownKeyIsAnError() throws {
        let message = configError(try registration("relu"), ["negative_slope": 0.1])
        XCTAssertTrue(message.contains("layer.negative_slope"), message)
        XCTAssertTrue(message.contains("unknown key"), message)
    }

    func testElusAlphaIsUnknownOnLeakyReLU() throws {
        let message = configError(try registration("leaky_relu"), ["alpha": 0.1])
        XCTAssertTrue(message.contains("layer.alpha"), message)
        XCTAssertTrue(message.contains("unknown key"), message)
    }

    func testBadNegativeSlopeType() throws {
        let message = configError(try registration("leaky_relu"), ["negative_slope": "steep"])
        XCTAssertTrue(message.contains("layer.negative_slope"), message)
        XCTAssertTrue(message.contains("expected a number"), message)
    }

    func testTwoInputsAreAnError() throws {
        let message = configError(try registration("tanh"), [:], inputs: [[4], [4]])
        XCTAssertTrue(message.contains("takes exactly 1 input"), message)
    }

    // MARK: - Softmax

    func softmax(axis: Int?, shape: Shape) throws -> any Layer {
        let config: JSONValue = axis.map { ["axis": .int($0)] } ?? [:]
        return try GradientCheck.build(Softmax.registration, config: config, inputs: [shape])
    }

    func testSoftmaxGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Softmax.registration), [])
        for (axis, shape) in [(0, [7]), (nil, [7]), (0, [3, 4, 5]), (2, [3, 4, 5]),
                              (-1, [2, 3, 5]), (0, [1, 2, 3])] as [(Int?, Shape)] {
            let layer = try softmax(axis: axis, shape: shape)
            XCTAssertEqual(layer.outputShape, shape)
            let label = "axis \(axis.map(String.init) ?? "default") \(shape)"
            XCTAssertEqual(GradientCheck.check(layer), [], label)
        }
    }

    func testSoftmaxValuesAndSums() throws {
        let layer = try softmax(axis: nil, shape: [3])
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, 0, 0, 0])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: []).array
        assertClose(y, [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3], within: .absolute(1e-5))
    }

    func testSoftmaxChannelAxisSumsToOne() throws {
        let (c, h, w) = (3, 2, 5)
        let layer = try softmax(axis: nil, shape: [c, h, w])
        let x = Tensor(shape: [2, c, h, w])
        for i in 0..<x.count { x.data[i] = Float((i * 37) % 11) - 5 }
        let y = GradientCheck.forward(layer, inputs: [x], parameters: [])
        for n in 0..<2 {
            for p in 0..<(h * w) {
                let offsets = (0..<c).map { n * c * h * w + $0 * h * w + p }
                let sum = offsets.reduce(Float(0)) { $0 + y.data[$1] }
                XCTAssertEqual(sum, 1, accuracy: 1e-5)
                // Each value against the direct formula on this position's channel vector.
                let xs = offsets.map { Double(x.data[$0]) }
                let total = xs.map { Foundation.exp($0) }.reduce(0, +)
                for (k, o) in offsets.enumerated() {
                    XCTAssertEqual(Double(y.data[o]), Foundation.exp(xs[k]) / total, accuracy: 1e-6)
                }
            }
        }
    }

    func testSoftmaxLastAxisOfImage() throws {
        let layer = try softmax(axis: 2, shape: [1, 2, 3])
        let x = Tensor(shape: [1, 1, 2, 3], values: [1, 2, 3, 5, 5, 5])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: []).array
        assertClose(y, [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3], within: .absolute(1e-5))
    }

    func testSoftmaxLargeLogitsDoNotOverflow() throws {
        let layer = try softmax(axis: 0, shape: [3])
        let x = Tensor(shape: [1, 3], values: [1000, 1001, 999])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: []).array
        XCTAssertTrue(y.allSatisfy(\.isFinite), "\(y)")
        assertClose(y, [0.24472847, 0.66524096, 0.09003057], within: .absolute(1e-5))
    }

    func testSoftmaxAxisOutOfRange() throws {
        let message = configError(Softmax.registration, ["axis": 3], inputs: [[3, 4, 5]])
        XCTAssertTrue(message.contains("layer.axis"), message)
        XCTAssertTrue(message.contains("-3..<3"), message)
        let typo = configError(Softmax.registration, ["dim": 1], inputs: [[3, 4, 5]])
        XCTAssertTrue(typo.contains("unknown key \"dim\""), typo)
    }
}
