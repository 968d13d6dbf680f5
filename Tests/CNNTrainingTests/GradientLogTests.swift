import CNNConfig
import CNNCore
import CNNGraph
import Foundation
import XCTest

@testable import CNNTraining

/// `train.log_gradients`: the recorded norms against their definitions, the files a run writes,
/// resume, and the config's errors.
final class GradientLogTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-grad-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        StopSignal.reset()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func config(_ log: String, optimizer: String = #"{"type": "sgd", "lr": 0.1}"#) throws -> String {
        let text = """
            {"model": {"name": "mlp", "input": [4], "layers": [
               {"type": "dense", "name": "hidden", "units": 5, "activation": "tanh"},
               {"type": "dense", "name": "out", "units": 3}]},
             "data": {"train": {"type": "synthetic", "count": 40, "classes": 3, "shape": [4], "seed": 2}},
             "train": {"epochs": 3, "batch_size": 8, "seed": 1, "optimizer": \(optimizer), "log_gradients": \(log)}}
            """
        let path = directory + "/c.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    final class Quiet: TrainingObserver {
        func log(_ line: String) {}
        func progress(_ p: StepProgress) {}
        func epochFinished(_ record: EpochRecord) {}
    }

    private func train(_ path: String, _ options: TrainOptions) throws -> TrainResult {
        try Trainer(configPath: path, options: options, observer: Quiet()).run()
    }

    /// Per-epoch rows for every trainable tensor; with plain SGD an update is lr·g, so the
    /// update ratio of a step is lr·‖g‖/‖w‖, and its epoch mean is bounded by those of the steps.
    func testPerEpochRowsAndTheirDefinitions() throws {
        let run = directory + "/run"
        _ = try train(try config("true"), TrainOptions(outDirectory: run))
        let rows = try GradientCSV.parse(String(contentsOfFile: run + "/gradients.csv", encoding: .utf8), file: "g")
        XCTAssertEqual(rows.count, 3 * 4, "3 epochs × (hidden.weight, hidden.bias, out.weight, out.bias)")
        XCTAssertEqual(rows.prefix(4).map(\.parameter), ["hidden.weight", "hidden.bias", "out.weight", "out.bias"])
        XCTAssertEqual(rows.prefix(4).map(\.role), ["weight", "bias", "weight", "bias"])
        XCTAssertEqual(rows.map(\.step), [5, 5, 5, 5, 10, 10, 10, 10, 15, 15, 15, 15], "40 / 8 = 5 steps per epoch")
        // The same run measured at every step: each epoch row is the mean of its 5 steps' rows.
        let steps = directory + "/every"
        _ = try train(try config(#"{"every_steps": 1}"#), TrainOptions(outDirectory: steps))
        let each = try GradientCSV.parse(String(contentsOfFile: steps + "/gradients.csv", encoding: .utf8), file: "g")
        XCTAssertEqual(each.count, 15 * 4)
        for r in rows {
            let mine = each.filter { $0.parameter == r.parameter && $0.epoch == r.epoch }
            XCTAssertEqual(mine.count, 5)
            XCTAssertEqual(r.gradientNorm, mine.map(\.gradientNorm).reduce(0, +) / 5, accuracy: 1e-12 * r.gradientNorm)
            XCTAssertEqual(r.updateRatio, mine.map(\.updateRatio).reduce(0, +) / 5, accuracy: 1e-12 * r.updateRatio)
            XCTAssertEqual(r.weightNorm, mine.last!.weightNorm, "the weights as the epoch leaves them")
            XCTAssertGreaterThan(r.gradientNorm, 0, r.parameter)
        }
        let svg = try String(contentsOfFile: run + "/gradients.svg", encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3, "a line per epoch")
    }

    /// Every N steps: that step's values, checked against the recorder's definition on one step.
    func testEveryStepsAndTheUpdateRatioOfSGD() throws {
        let run = directory + "/steps"
        _ = try train(try config(#"{"every_steps": 2}"#), TrainOptions(outDirectory: run))
        let rows = try GradientCSV.parse(String(contentsOfFile: run + "/gradients.csv", encoding: .utf8), file: "g")
        XCTAssertEqual(Set(rows.map(\.step)), [2, 4, 6, 8, 10, 12, 14])

        // One step by hand: ‖g‖, ‖w‖ after, and ‖Δw‖/‖w‖ before = lr·‖g‖/‖w‖ for w −= lr·g.
        let model = try JSONSource.parse(#"{"name": "m", "input": [3], "layers": [{"type": "dense", "name": "d", "units": 2}]}"#,
                                         file: "m.json")
        let graph = try GraphBuilder.build(model: model, file: "m.json")
        let executor = Executor(graph: graph, maxBatch: 1)
        let recorder = GradientRecorder(spec: GradientLogSpec(everySteps: 3), graph: graph, offsets: executor.parameterOffsets)
        XCTAssertFalse(recorder.measures(step: 2))
        XCTAssertTrue(recorder.measures(step: 3))
        let w = executor.parameters, g = executor.gradients
        for i in 0..<g.count { g.data[i] = Float(i % 4) - 1.5 }
        let before = w.array
        recorder.beforeUpdate(parameters: w.data, gradients: g.data, count: w.count)
        for i in 0..<w.count { w.data[i] -= 0.1 * g.data[i] }
        recorder.afterUpdate(parameters: w.data, epoch: 1, step: 3)
        func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let weight = recorder.rows[0], offset = executor.parameterOffsets
        XCTAssertEqual(weight.parameter, "d.weight")
        XCTAssertEqual(weight.gradientNorm, norm(g.array[offset[0]..<offset[1]]), accuracy: 1e-9)
        XCTAssertEqual(weight.weightNorm, norm(w.array[offset[0]..<offset[1]]), accuracy: 1e-9)
        XCTAssertEqual(weight.updateRatio, 0.1 * weight.gradientNorm / norm(before[offset[0]..<offset[1]]), accuracy: 1e-6)
        XCTAssertEqual(recorder.rows.map(\.step), [3, 3])
    }

    func testConfigErrors() throws {
        for (log, message) in [("2", "c.json: train.log_gradients: expected true, false or {\"every_steps\": N}, got an integer (2)"),
                               (#"{"every_steps": 0}"#, "c.json: train.log_gradients.every_steps: must be in 1...1000000000, got 0"),
                               (#"{"every": 3}"#, "c.json: train.log_gradients.every: unknown key \"every\"; valid keys: every_steps")] {
            let path = try config(log)
            XCTAssertThrowsError(try train(path, TrainOptions(outDirectory: directory + "/bad"))) {
                XCTAssertEqual("\($0)".replacingOccurrences(of: directory + "/", with: ""), message)
            }
        }
        let off = try TrainSpec.load(JSONSource.parse(#"{"epochs": 1, "batch_size": 8, "optimizer": {"type": "sgd", "lr": 0.1}, "#
                                                      + #""log_gradients": false}"#, file: "c.json"), file: "c.json")
        XCTAssertNil(off.gradientLog)
    }

    /// A resumed run keeps the finished epochs' rows and adds its own. Resume is bit-exact and the
    /// numbers are written in full, so they are an uninterrupted run's, but for the interrupted
    /// epoch's means, which cover only the steps after the resume (the weights are the same).
    func testResumeKeepsTheRows() throws {
        let path = try config("true"), run = directory + "/resumed", whole = directory + "/whole"
        _ = try train(path, TrainOptions(outDirectory: run, stopAfterSteps: 7))
        _ = try train(path, TrainOptions(resumeDirectory: run))
        _ = try train(path, TrainOptions(outDirectory: whole))
        let resumed = try GradientCSV.parse(String(contentsOfFile: run + "/gradients.csv", encoding: .utf8), file: "g")
        let reference = try GradientCSV.parse(String(contentsOfFile: whole + "/gradients.csv", encoding: .utf8), file: "g")
        XCTAssertEqual(resumed.map(\.epoch), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
        XCTAssertEqual(resumed.filter { $0.epoch != 2 }, reference.filter { $0.epoch != 2 })
        XCTAssertEqual(resumed.map(\.weightNorm), reference.map(\.weightNorm))
        XCTAssertNotEqual(resumed.filter { $0.epoch == 2 }.map(\.gradientNorm),
                          reference.filter { $0.epoch == 2 }.map(\.gradientNorm), "epoch 2 averages steps 8–10 only")
    }
}
