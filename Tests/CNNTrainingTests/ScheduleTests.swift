import XCTest
import CNNConfig
@testable import CNNTraining

/// Every schedule at chosen epochs and iterations against PyTorch's closed forms, computed by
/// hand; plateau reductions, cooldown and thresholds as `ReduceLROnPlateau`; state round trips;
/// the `train.schedule` config.
final class ScheduleTests: XCTestCase {
    /// The learning rate at (epoch, iteration) with `perEpoch` iterations and `total` epochs.
    private func rate(_ s: LRSchedule, base: Float = 1, _ epoch: Int, _ iteration: Int = 0,
                      perEpoch: Int = 4, total: Int = 10) -> Float {
        s.lr(base: base, epoch: epoch, iteration: iteration, iterationsPerEpoch: perEpoch,
             totalEpochs: total)
    }

    func testConstantAndLinearWarmup() {
        XCTAssertEqual(rate(LRSchedule(), base: 0.1, 7, 3), 0.1)
        // Warmup over 2 epochs of 5 iterations from 0.1·base: lr = 0.1·(0.1 + 0.9·t/10).
        let s = LRSchedule(ScheduleSpec(type: .constant, warmupEpochs: 2))
        XCTAssertEqual(rate(s, base: 0.1, 0, 0, perEpoch: 5), 0.01, accuracy: 1e-9)
        XCTAssertEqual(rate(s, base: 0.1, 1, 0, perEpoch: 5), 0.055, accuracy: 1e-9)  // t = 5
        XCTAssertEqual(rate(s, base: 0.1, 1, 4, perEpoch: 5), 0.091, accuracy: 1e-9)  // t = 9
        XCTAssertEqual(rate(s, base: 0.1, 2, 0, perEpoch: 5), 0.1)                    // t = 10
        // A custom start factor: 0.5 + 0.5·t/10 at t = 4.
        let half = LRSchedule(ScheduleSpec(type: .constant, warmupEpochs: 2,
                                           warmupStartFactor: 0.5))
        XCTAssertEqual(rate(half, 0, 4, perEpoch: 5), 0.7, accuracy: 1e-7)
    }

    func testStep() {
        // StepLR(step_size 3, gamma 0.1): γ^⌊e/3⌋, constant within an epoch.
        let s = LRSchedule(ScheduleSpec(type: .step, stepSize: 3))
        XCTAssertEqual(rate(s, 0), 1)
        XCTAssertEqual(rate(s, 2, 3), 1)
        XCTAssertEqual(rate(s, 3), 0.1, accuracy: 1e-9)
        XCTAssertEqual(rate(s, 5, 2), 0.1, accuracy: 1e-9)
        XCTAssertEqual(rate(s, 6), 0.01, accuracy: 1e-9)
    }

    func testMultistepAndExponential() {
        // MultiStepLR([2, 5], 0.5): γ^(milestones ≤ e).
        let m = LRSchedule(ScheduleSpec(type: .multistep, gamma: 0.5, milestones: [2, 5]))
        XCTAssertEqual([1, 2, 4, 5, 9].map { rate(m, $0) }, [1, 0.5, 0.5, 0.25, 0.25])
        // ExponentialLR(0.9): 0.9³ = 0.729 at epoch 3.
        let e = LRSchedule(ScheduleSpec(type: .exponential, gamma: 0.9))
        XCTAssertEqual(rate(e, 3, 2), 0.729, accuracy: 1e-7)
    }

    func testMainScheduleStartsAfterWarmup() {
        // As SequentialLR([LinearLR, StepLR(2, 0.1)], milestones [2]): the step schedule's
        // epoch is epoch − 2, so epoch 3 is its epoch 1 (base) and epoch 4 its epoch 2 (0.1).
        let s = LRSchedule(ScheduleSpec(type: .step, stepSize: 2, warmupEpochs: 2))
        XCTAssertEqual(rate(s, 3), 1)
        XCTAssertEqual(rate(s, 4), 0.1, accuracy: 1e-9)
    }

    func testCosinePerIteration() {
        // CosineAnnealingLR over T = 10·4 = 40 iterations, base 1, min 0:
        // (1 + cos(π·t/40))/2 = 1, 0.8535534 (t = 10), 0.5 (t = 20), 0.0015413 (t = 39).
        let s = LRSchedule(ScheduleSpec(type: .cosine))
        XCTAssertEqual(rate(s, 0, 0), 1)
        XCTAssertEqual(rate(s, 2, 2), 0.8535534, accuracy: 1e-7)
        XCTAssertEqual(rate(s, 5, 0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(rate(s, 9, 3), 0.0015413, accuracy: 1e-7)
    }

    func testWarmupThenCosine() {
        // base 0.2, min_lr 0.02, 1 warmup epoch of 4 iterations, 5 epochs: warmup
        // 0.2·(0.1 + 0.9·t/4) for t < 4, then cosine over T = (5 − 1)·4 = 16 iterations:
        // 0.02 + 0.18·(1 + cos(π·t′/16))/2 with t′ = t − 4.
        let s = LRSchedule(ScheduleSpec(type: .cosine, minLR: 0.02, warmupEpochs: 1))
        func at(_ e: Int, _ i: Int) -> Float { rate(s, base: 0.2, e, i, perEpoch: 4, total: 5) }
        XCTAssertEqual(at(0, 0), 0.02, accuracy: 1e-8)
        XCTAssertEqual(at(0, 2), 0.11, accuracy: 1e-8)        // 0.2·(0.1 + 0.45)
        XCTAssertEqual(at(1, 0), 0.2, accuracy: 1e-8)         // t′ = 0
        XCTAssertEqual(at(1, 2), 0.1931492, accuracy: 1e-7)   // t′ = 2: cos(π/8) = 0.9238795
        XCTAssertEqual(at(3, 0), 0.11, accuracy: 1e-7)        // t′ = 8: halfway
        XCTAssertEqual(at(4, 3), 0.0217293, accuracy: 1e-7)   // t′ = 15: cos(15π/16) = −0.9807853
    }

    private func plateau(_ metrics: [Double], _ spec: ScheduleSpec) -> [Float] {
        let s = LRSchedule(spec)
        return metrics.map { s.endEpoch(metric: $0); return rate(s, 0) }
    }

    func testPlateauReducesAfterPatience() {
        // patience 2, factor 0.5, mode min: 1.0 and 0.9 improve; three epochs at 0.95 are bad
        // epochs 1, 2, 3 — the third exceeds the patience and halves the rate, resetting the
        // count, so two more bad epochs change nothing and a third halves it again.
        let spec = ScheduleSpec(type: .plateau, patience: 2, factor: 0.5)
        XCTAssertEqual(plateau([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95], spec),
                       [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    }

    func testPlateauRelativeThresholdCooldownAndMinLR() {
        // threshold 1e-4 (relative): after best 0.9 an improvement must beat 0.9·(1 − 1e-4) =
        // 0.89991, so 0.89995 is a bad epoch and 0.8999 a good one. patience 0: every bad
        // epoch reduces.
        let spec = ScheduleSpec(type: .plateau, patience: 0, factor: 0.5)
        XCTAssertEqual(plateau([0.9, 0.89995, 0.8999], spec), [1, 0.5, 0.5])
        // cooldown 2: after a reduction the next two epochs do not count as bad.
        let cool = ScheduleSpec(type: .plateau, patience: 0, factor: 0.5, cooldown: 2)
        XCTAssertEqual(plateau([1, 1, 1, 1, 1], cool), [1, 0.5, 0.5, 0.5, 0.25])
        // min_lr 0.3: 0.5 → max(0.25, 0.3) = 0.3, and it stays there.
        let floor = ScheduleSpec(type: .plateau, minLR: 0.3, patience: 0, factor: 0.5)
        XCTAssertEqual(plateau([1, 1, 1, 1], floor), [1, 0.5, 0.3, 0.3])
        // mode max (accuracy): rising is good; 0.8 after 0.9 is bad.
        let max = ScheduleSpec(type: .plateau, patience: 0, factor: 0.5, mode: .max)
        XCTAssertEqual(plateau([0.5, 0.9, 0.8], max), [1, 1, 0.5])
    }

    func testPlateauStateRoundTrip() throws {
        let spec = ScheduleSpec(type: .plateau, patience: 1, factor: 0.5, cooldown: 1)
        let a = LRSchedule(spec)
        // Before any metric the best is ±∞, which JSON cannot hold, so it is left out.
        XCTAssertNil(a.state["plateau.best"])
        for m in [1.0, 0.8, 0.9, 0.9] { a.endEpoch(metric: m) }
        XCTAssertEqual(a.state, ["plateau.best": 0.8, "plateau.bad_epochs": 0,
                                 "plateau.cooldown_counter": 1, "plateau.scale": 0.5])
        let b = LRSchedule(spec)
        try b.restore(a.state)
        for m in [0.9, 0.9, 0.9, 0.7, 0.9] {
            a.endEpoch(metric: m)
            b.endEpoch(metric: m)
            XCTAssertEqual(rate(a, 0), rate(b, 0))
            XCTAssertEqual(a.state, b.state)
        }
        XCTAssertEqual(rate(b, 0), 0.25)
        XCTAssertThrowsError(try LRSchedule(spec).restore([:])) {
            XCTAssertEqual("\($0)", "schedule state (plateau): missing \"plateau.bad_epochs\" "
                           + "(was the run saved with another schedule?)")
        }
        // Other schedules are pure functions of the position and keep no state.
        XCTAssertEqual(LRSchedule(ScheduleSpec(type: .cosine)).state, [:])
    }

    // MARK: - Config

    private func spec(_ text: String) throws -> ScheduleSpec {
        try ConfigDecoder.decode(ScheduleSpec.self, from: JSONSource.parse(text, file: "run.json"),
                                 path: "train.schedule", file: "run.json")
    }

    private func assertConfigError(_ text: String, _ message: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try spec(text), file: file, line: line) {
            XCTAssertEqual("\($0)", message, file: file, line: line)
        }
    }

    func testSpecDecodes() throws {
        let s = try spec(#"""
            {"type": "multistep", "milestones": [30, 60], "gamma": 0.2, "warmup_epochs": 5}
            """#)
        XCTAssertEqual(s.type, .multistep)
        XCTAssertEqual(s.milestones, [30, 60])
        XCTAssertEqual(s.gamma, 0.2)
        XCTAssertEqual(s.warmupEpochs, 5)
        let p = try spec(#"""
            {"type": "plateau", "mode": "max", "patience": 3, "factor": 0.5, "threshold": 0.01,
             "cooldown": 1, "min_lr": 1e-5}
            """#)
        XCTAssertEqual(p.mode, .max)
        XCTAssertEqual(p.minLR, 1e-5)
    }

    func testSpecErrorsNameTheKey() throws {
        assertConfigError(#"{"type": "step"}"#,
                          "run.json: train.schedule: a step schedule needs \"step_size\"")
        assertConfigError(#"{"type": "cosine", "gamma": 0.1}"#,
                          "run.json: train.schedule.gamma: applies only to the step, multistep, "
                          + "exponential schedules, not to \"cosine\"")
        assertConfigError(#"{"type": "multistep", "milestones": [30, 20]}"#,
                          "run.json: train.schedule.milestones[1]: milestones must be increasing "
                          + "epochs ≥ 1, got [30, 20]")
        assertConfigError(#"{"type": "plateau", "mode": "minimum"}"#,
                          "run.json: train.schedule.mode: unknown value \"minimum\"; "
                          + "valid: min, max")
        assertConfigError(#"{"type": "cosin"}"#,
                          "run.json: train.schedule.type: unknown value \"cosin\"; valid: "
                          + "constant, step, multistep, exponential, cosine, plateau "
                          + "(did you mean \"cosine\"?)")
        assertConfigError(#"{"type": "constant", "warmup_start_factor": 0}"#,
                          "run.json: train.schedule.warmup_start_factor: must be in (0, 1], "
                          + "got 0.0")
        let long = try spec(#"{"type": "cosine", "warmup_epochs": 3}"#)
        XCTAssertNoThrow(try long.validate(totalEpochs: 4))
        XCTAssertThrowsError(try long.validate(totalEpochs: 3)) {
            XCTAssertEqual("\($0)", "run.json: train.schedule.warmup_epochs: 3 warmup epochs leave "
                           + "none of the 3 training epochs for the schedule; use fewer")
        }
    }
}
