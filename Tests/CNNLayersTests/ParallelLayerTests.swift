import CNNCore
import CNNTestSupport
import XCTest

@testable import CNNLayers

/// The layers that split their work between the worker pool's parts (convolution, activations,
/// batch norm, pooling) pass every gradient check with two parts, even where the split is uneven
/// (batch 3) and tensors are tiny (grain 1, so every loop splits).
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
