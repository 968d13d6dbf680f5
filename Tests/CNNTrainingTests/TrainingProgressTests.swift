import XCTest
@testable import CNNTraining

/// A progress record is accepted for a resume only if it can belong to the run: 3 epochs of 5
/// batches of up to 8 samples here.
final class TrainingProgressTests: XCTestCase {
    private func problem(_ edit: (inout TrainingProgress) -> Void) -> String? {
        var p = TrainingProgress()
        p.epoch = 1
        p.batch = 2
        p.step = 7
        p.seen = 16
        p.correct = 9
        p.predictions = 16
        p.seconds = 1.5
        edit(&p)
        return p.inconsistency(epochs: 3, batchesPerEpoch: 5, batchSize: 8)
    }

    func testAPossibleRecordIsAccepted() {
        XCTAssertNil(problem { _ in })
        XCTAssertNil(problem { $0.batch = 5; $0.step = 10; $0.seen = 40 })
    }

    func testEachImpossibleFieldIsNamed() {
        XCTAssertEqual(problem { $0.epoch = 1 << 62 }, "epoch 4611686018427387904 is outside the run's 0...3")
        XCTAssertEqual(problem { $0.epoch = 3; $0.step = 15; $0.batch = 0 },
                       "the run has finished its 3 epochs; give --epochs with more to train on")
        XCTAssertEqual(problem { $0.batch = 1_000_000_000 }, "batch 1000000000 is outside the epoch's 0...5")
        XCTAssertEqual(problem { $0.step = -1 }, "step -1 is not the 7 batches done before epoch 2, batch 3 at 5 "
                       + "batches per epoch (were the data or the batch size changed?)")
        XCTAssertEqual(problem { $0.seen = -5 }, "the epoch's counts (seen -5, correct 9, predictions 16) cannot "
                       + "come from 2 batches of up to 8 samples")
        XCTAssertEqual(problem { $0.correct = 17 }, "the epoch's counts (seen 16, correct 17, predictions 16) cannot "
                       + "come from 2 batches of up to 8 samples")
        XCTAssertNotNil(problem { $0.predictions = Int.max })
        XCTAssertNotNil(problem { $0.correct = 65_536; $0.seen = 0 })
        XCTAssertNotNil(problem { $0.seconds = -3 })
        XCTAssertNotNil(problem { $0.lossSum = .nan })
        XCTAssertNotNil(problem { $0.badEpochs = 2 })
        XCTAssertNotNil(problem { $0.schedule = ["lr": .infinity] })
    }
}
