import CNNConfig
import CNNCore
import CNNTestSupport
import XCTest
@testable import CNNLayers

/// What a recurrent layer declares it keeps for backward (`savedStateFloats`, which `summarize`
/// reports) is what its storage allocates for those buffers.
final class SavedStateTests: XCTestCase {
    func testRecurrentLayersDeclareWhatTheirStorageHolds() throws {
        let cases: [(LayerRegistration, JSONValue)] = [
            (GRU.registration, ["hidden": 3, "layers": 2, "bidirectional": true, "dropout": 0.2]),
            (LSTM.registration, ["hidden": 4, "layers": 3, "dropout": 0.5, "initial_state": "learned"]),
            (SimpleRNN.registration, ["hidden": 5, "bidirectional": true, "return_sequences": true]),
        ]
        for (registration, config) in cases {
            let layer = try XCTUnwrap(GradientCheck.build(registration, config: config, inputs: [[6, 3]])
                                      as? any RecurrentLayerProtocol)
            for batch in [1, 5] {
                XCTAssertEqual(layer.savedStateFloats(batch: batch), layer.allocatedSavedFloats(batch: batch),
                               "\(registration.type), batch \(batch)")
            }
        }
    }
}
