import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import Foundation
import XCTest

@testable import CNNTraining

/// End-to-end training on small synthetic data (seeded, so every number here is reproducible).
final class TrainerTests: XCTestCase {
    final class Recorder: TrainingObserver {
        var lines: [String] = []
        func log(_ line: String) { lines.append(line) }
        func progress(_ p: StepProgress) {}
        func epochFinished(_ record: EpochRecord) {}
    }

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        StopSignal.reset()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A small CNN with batch norm and dropout on 3-class synthetic 6x6 images.
    func config(classes: Int = 3, train: String, data: String = "", name: String = "c.json") throws -> String {
        let text = """
            {
              "model": {"name": "tiny", "input": [1, 6, 6], "layers": [
                {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1},
                {"type": "batchnorm", "name": "bn1", "activation": "relu"},
                {"type": "maxpool2d", "name": "p1", "kernel": 2},
                {"type": "flatten"},
                {"type": "dropout", "name": "drop", "rate": 0.1},
                {"type": "dense", "name": "out", "units": \(classes)}]},
              "data": {
                "train": {"type": "synthetic", "count": 90, "classes": \(classes), "shape": [1, 6, 6], "seed": 1, "noise": 0.3},
                "test": {"type": "synthetic", "count": 30, "classes": \(classes), "shape": [1, 6, 6], "seed": 1, "noise": 0.3}
                \(data)
              },
              "train": {\(train)}
            }
            """
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func train(_ path: String, _ options: TrainOptions) throws -> (TrainResult, Recorder) {
        let recorder = Recorder()
        let result = try Trainer(configPath: path, options: options, observer: recorder).run()
        return (result, recorder)
    }

    func out(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func weights(_ run: String) throws -> [String: [Float]] {
        let file = try SafeTensors.read(run + "/last.safetensors")
        return try Dictionary(uniqueKeysWithValues: file.names.map { ($0, try file.values(of: $0)) })
    }

    func testTinyNetFitsSyntheticDataToNearZeroLoss() throws {
        let path = try config(train: """
            "epochs": 25, "batch_size": 16, "seed": 3, "optimizer": {"type": "adam", "lr": 0.01}
            """)
        let (result, _) = try train(path, TrainOptions(outDirectory: out("fit")))
        let last = try XCTUnwrap(result.records.last)
        XCTAssertEqual(result.records.count, 25)
        XCTAssertLessThan(last.trainLoss, 0.05)
        // Training accuracy is measured with dropout active, so a few samples may still miss.
        XCTAssertGreaterThan(last.trainAccuracy, 0.95)
        XCTAssertGreaterThan(last.testAccuracy ?? 0, 0.9)
        XCTAssertLessThan(last.trainLoss, result.records[0].trainLoss / 10)
    }

    /// Stopping mid-epoch and resuming gives bit-for-bit the weights, optimizer state and metrics
    /// of an uninterrupted run: momentum, a warm-up + cosine schedule, dropout, batch norm and
    /// augmentation all depend on state the checkpoint must carry.
    /// A crash between the two renames of a checkpoint leaves the weights of step 4 beside the
    /// state of step 8: resume takes the previous state, kept until both renames are done, and
    /// without it says what happened instead of mixing two steps.
    func testResumeAfterACrashBetweenTheRenames() throws {
        let path = try config(train: #""epochs": 2, "batch_size": 16, "optimizer": {"type": "adam", "lr": 0.01}"#)
        let run = out("renames"), fm = FileManager.default
        _ = try train(path, TrainOptions(outDirectory: run, stopAfterSteps: 4))
        try fm.copyItem(atPath: run + "/last.safetensors", toPath: run + "/weights4")
        try fm.copyItem(atPath: run + "/last.state.safetensors", toPath: run + "/state4")
        _ = try train(path, TrainOptions(resumeDirectory: run, stopAfterSteps: 8))
        try fm.removeItem(atPath: run + "/last.safetensors")
        try fm.moveItem(atPath: run + "/weights4", toPath: run + "/last.safetensors")
        XCTAssertThrowsError(try train(path, TrainOptions(resumeDirectory: run))) { error in
            XCTAssertTrue("\(error)".contains("is from step 8 but the weights are from step 4"), "\(error)")
        }
        try fm.moveItem(atPath: run + "/state4", toPath: run + "/last.previous.state.safetensors")
        let (result, log) = try train(path, TrainOptions(resumeDirectory: run))
        XCTAssertFalse(result.interrupted)
        XCTAssertTrue(log.lines.contains { $0.contains("resuming") && $0.contains("(step 4)") }, "\(log.lines)")
        XCTAssertFalse(fm.fileExists(atPath: run + "/last.previous.state.safetensors"))
    }

    /// A resume whose metrics.csv has gone says so: the history before it is lost, not silently.
    func testResumeWithoutMetricsSaysTheHistoryIsLost() throws {
        let path = try config(train: #""epochs": 2, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.05}"#)
        _ = try train(path, TrainOptions(outDirectory: out("no-metrics"), epochs: 1))
        try FileManager.default.removeItem(atPath: out("no-metrics") + "/metrics.csv")
        let (result, log) = try train(path, TrainOptions(resumeDirectory: out("no-metrics")))
        XCTAssertEqual(result.records.map(\.epoch), [2])
        XCTAssertTrue(log.lines.contains { $0.hasPrefix("warning: ") && $0.contains("metrics.csv holds 0 of the 1 finished") },
                      "\(log.lines)")
    }

    func testResumeEqualsUninterrupted() throws {
        let path = try config(train: """
            "epochs": 3, "batch_size": 16, "seed": 5,
            "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true},
            "schedule": {"type": "cosine", "warmup_epochs": 1}
            """, data: #", "augment": {"random_crop": 1, "horizontal_flip": true}, "normalize": "auto""#)
        let (whole, _) = try train(path, TrainOptions(outDirectory: out("whole")))
        // 90 samples / 16 = 6 batches per epoch: stop in the middle of epoch 2, then again at the
        // boundary of epoch 3, resuming each time.
        let (first, _) = try train(path, TrainOptions(outDirectory: out("parts"), stopAfterSteps: 8))
        XCTAssertTrue(first.interrupted)
        XCTAssertEqual(first.records.count, 1)
        let (second, log) = try train(path, TrainOptions(resumeDirectory: out("parts"), stopAfterSteps: 12))
        XCTAssertTrue(second.interrupted)
        XCTAssertTrue(log.lines.contains { $0.contains("resuming") && $0.contains("epoch 2, batch 3 (step 8)") }, "\(log.lines)")
        let (third, _) = try train(path, TrainOptions(resumeDirectory: out("parts")))
        XCTAssertFalse(third.interrupted)
        XCTAssertEqual(try weights(out("parts")), try weights(out("whole")))
        let strip = { (r: EpochRecord) -> EpochRecord in var r = r; r.seconds = 0; r.imagesPerSecond = 0; return r }
        XCTAssertEqual(third.records.map(strip), whole.records.map(strip))
        let state = { (run: String) in try SafeTensors.read(run + "/last.state.safetensors") }
        XCTAssertEqual(try state(out("parts")).values(of: "optimizer.momentum_buffer"),
                       try state(out("whole")).values(of: "optimizer.momentum_buffer"))
        // The progress record's keys are sorted, so the same run writes the same bytes (a
        // dictionary's order differs from process to process).
        let progress = try XCTUnwrap(try state(out("whole")).metadata["progress"])
        let sorted = JSONEncoder()
        sorted.outputFormatting = .sortedKeys
        let decoded = try JSONDecoder().decode(TrainingProgress.self, from: Data(progress.utf8))
        XCTAssertEqual(progress, String(decoding: try sorted.encode(decoded), as: UTF8.self))
    }

    func testFrozenLayerIsLeftUnchanged() throws {
        let path = try config(train: """
            "epochs": 2, "batch_size": 16, "freeze": ["c1"], "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}
            """)
        let (result, recorder) = try train(path, TrainOptions(outDirectory: out("frozen")))
        XCTAssertEqual(result.records.count, 2)
        XCTAssertTrue(recorder.lines.contains { $0.contains("frozen: c1.weight, c1.bias") }, "\(recorder.lines)")
        let initial = Executor(graph: try ConfigFile.load(path).buildGraph(), maxBatch: 1, seed: 1)
        let trained = try weights(out("frozen"))
        XCTAssertEqual(trained["c1.weight"], initial.parameter(named: "c1.weight")!.array)
        XCTAssertEqual(trained["c1.bias"], initial.parameter(named: "c1.bias")!.array)
        XCTAssertNotEqual(trained["out.weight"], initial.parameter(named: "out.weight")!.array)
    }

    /// Epoch 1 trains normally; the run is then resumed with a learning rate of 1e30, which
    /// blows up in epoch 2: the error names the step and where the non-finite values appeared,
    /// and epoch 1's checkpoint survives untouched.
    func testDivergenceStopsWithTheStepAndLayerAndKeepsTheLastCheckpoint() throws {
        let path = try config(train: #""epochs": 3, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.05}"#)
        _ = try train(path, TrainOptions(outDirectory: out("nan"), epochs: 1))
        let before = try weights(out("nan"))
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "0.05", with: "1e30")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try train(path, TrainOptions(resumeDirectory: out("nan")))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(path): step 8 (epoch 2, batch 2): "), text)
            // c1's weights are huge but finite after one step; the products overflow in the last layer.
            XCTAssertTrue(text.contains("the first non-finite values are in the output of layer out"), text)
            XCTAssertTrue(text.hasSuffix("Stopped without saving; the last good checkpoint is kept "
                                         + "(lower the learning rate or set clip_grad_norm)"), text)
        }
        let meta = try SafeTensors.read(out("nan") + "/last.safetensors").metadata
        XCTAssertEqual(meta["epoch"], "1")
        XCTAssertEqual(meta["step"], "6")
        XCTAssertEqual(try weights(out("nan")), before)
    }

    func testInitFromLoadsMatchingTensorsAndReportsTheRest() throws {
        let source = try config(train: #""epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1}"#)
        _ = try train(source, TrainOptions(outDirectory: out("source")))
        let target = try config(classes: 2, train: """
            "epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1},
            "init_from": "source/last.safetensors", "freeze": ["c1"]
            """, name: "target.json")
        let (_, recorder) = try train(target, TrainOptions(outDirectory: out("target")))
        // c1 (2), bn1 (4) load; out.weight and out.bias have 2 classes instead of 3.
        XCTAssertTrue(recorder.lines.contains { $0.hasSuffix("last.safetensors: loaded 6 of 8 tensors") }, "\(recorder.lines)")
        XCTAssertTrue(recorder.lines.contains("  skipped out.weight: shape [3, 36] in the file, [2, 36] in the model; "
                                              + "it keeps its fresh initialisation (rename the layer to make that explicit)"),
                      "\(recorder.lines)")
        // c1 is frozen: the loaded convolution stays exactly the source's.
        XCTAssertEqual(try weights(out("target"))["c1.weight"], try weights(out("source"))["c1.weight"])
    }

    func testEarlyStoppingEndsARunThatDoesNotImprove() throws {
        let path = try config(train: """
            "epochs": 10, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 1e-9},
            "early_stopping": {"monitor": "test_loss", "patience": 2, "min_delta": 0.001}
            """)
        let (result, recorder) = try train(path, TrainOptions(outDirectory: out("early")))
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(result.records.count, 3)
        XCTAssertTrue(recorder.lines.last?.hasPrefix("early stopping: test_loss did not improve for 2 epochs") ?? false)
    }

    /// Plain SGD on a model without batch statistics or dropout: two accumulated batches of 8
    /// make the same update as one batch of 16 (the loss of each is weighted by 1/accumulate).
    func testGradientAccumulationMatchesALargerBatch() throws {
        func plain(_ train: String, _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try """
                {"model": {"name": "flat", "input": [1, 6, 6], "layers": [
                   {"type": "flatten"}, {"type": "dense", "name": "h", "units": 8, "activation": "tanh"},
                   {"type": "dense", "name": "out", "units": 3}]},
                 "data": {"train": {"type": "synthetic", "count": 96, "classes": 3, "shape": [1, 6, 6], "seed": 4}},
                 "train": {"epochs": 2, "seed": 2, "optimizer": {"type": "sgd", "lr": 0.1}, \(train)}}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        _ = try train(try plain(#""batch_size": 16"#, "big.json"), TrainOptions(outDirectory: out("big")))
        _ = try train(try plain(#""batch_size": 8, "accumulate": 2"#, "acc.json"), TrainOptions(outDirectory: out("acc")))
        let big = try weights(out("big")), accumulated = try weights(out("acc"))
        for (name, values) in big {
            let other = try XCTUnwrap(accumulated[name])
            let worst = zip(values, other).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, name)
        }
        // The comparison is not vacuous: training moved the weights away from their initial values.
        let initial = Executor(graph: try ConfigFile.load(out("big.json")).buildGraph(), maxBatch: 1, seed: 2)
        XCTAssertGreaterThan(zip(big["h.weight"]!, initial.parameter(named: "h.weight")!.array).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testMismatchedDataAndModelIsAConfigError() throws {
        let path = try config(train: #""epochs": 1, "batch_size": 8, "optimizer": {"type": "sgd", "lr": 0.1}"#,
                              data: "").replacingOccurrences(of: "", with: "")
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"units\": 3", with: "\"units\": 5")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try train(path, TrainOptions(outDirectory: out("bad")))) { error in
            XCTAssertEqual("\(error)", "\(path): model: output 0 (out) is [5]; the data has 3 classes, so it must be [3]")
        }
    }
}
