import CNNCore
import CNNTestSupport
import XCTest

@testable import CNNLayers

/// Every registered layer type passes the finite-difference gradient check on its example, so a
/// new layer is covered by its registry line.
final class RegistryGradientTests: XCTestCase {
    func testEveryRegisteredLayerPassesTheGradientCheck() throws {
        for registration in LayerRegistry.all where registration.example.standalone {
            let failures = try GradientCheck.check(registration)
            XCTAssertEqual(failures, [], "\(registration.type)")
        }
    }

    func testEveryRegisteredLayerPassesInInferenceMode() throws {
        for registration in LayerRegistry.all where registration.example.standalone {
            let e = registration.example
            var failures = GradientCheck.check(try GradientCheck.build(registration), indexInputs: e.indexInputs,
                                               spacedInputs: e.spacedInputs, training: false)
            // A batch norm's output feeding a ReLU (dense_bottleneck) may sit within the step of
            // the kink; a wrong gradient fails at the smaller step too.
            if !failures.isEmpty {
                failures = GradientCheck.check(try GradientCheck.build(registration), indexInputs: e.indexInputs,
                                               spacedInputs: e.spacedInputs, training: false, step: 1e-4)
            }
            XCTAssertEqual(failures, [], "\(registration.type)")
        }
    }

    func testTypeNamesAreUnique() {
        XCTAssertEqual(Set(LayerRegistry.typeNames).count, LayerRegistry.typeNames.count)
    }

    /// The checker itself must catch a wrong gradient: a layer whose backward is off by a factor.
    func testCheckerCatchesAWrongGradient() throws {
        let layer = try GradientCheck.build(Dense.registration)
        let broken = ScaledBackward(layer)
        XCTAssertFalse(GradientCheck.check(broken).isEmpty)
        XCTAssertTrue(GradientCheck.check(layer).isEmpty)
    }
}

/// Wraps a layer and doubles the gradients it adds: the checker must flag it.
private final class ScaledBackward: DelegatingLayer {
    override func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor, inputGradients: [Tensor?],
                           context: inout ExecutionContext) {
        let doubled = Tensor(shape: outputGradient.shape)
        for i in 0..<doubled.count { doubled.data[i] = 2 * outputGradient.data[i] }
        inner.backward(inputs: inputs, output: output, outputGradient: doubled, inputGradients: inputGradients,
                       context: &context)
    }
}
