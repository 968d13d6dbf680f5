import Foundation
import XCTest

final class TrainCommandTests: XCTestCase {
    /// A full config on seeded synthetic data (4 classes of 1x8x8 images).
    func config(_ name: String, samples: Int = 256, epochs: Int = 2, extraData: String = "") throws -> String {
        try CLI.temporaryFile(name, """
            {
              "model": {"name": "small", "input": [1, 8, 8], "layers": [
                {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "maxpool2d", "name": "p1", "kernel": 2},
                {"type": "flatten"},
                {"type": "dense", "name": "out", "units": 4}]},
              "data": {
                "train": {"type": "synthetic", "count": \(samples), "classes": 4, "shape": [1, 8, 8], "seed": 2}\(extraData),
                "test": {"type": "synthetic", "count": 64, "classes": 4, "shape": [1, 8, 8], "seed": 2}
              },
              "train": {"epochs": \(epochs), "batch_size": 16, "seed": 1, "optimizer": {"type": "adam", "lr": 0.01}}
            }
            """)
    }

    func runDirectory(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-cli-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    func testTrainWritesARunDirectoryAndEvalReportsIt() throws {
        let file = try config("train.json")
        let out = runDirectory("run")
        let r = try CLI.run(["train", file, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("epoch 2/2  train loss "), r.stdout)
        // The header names the cores used (train.threads, else 2), not OpenBLAS's own count,
        // which the worker pool sets to 1 per part.
        XCTAssertTrue(r.stdout.contains("seed 1, 2 threads\n"), r.stdout)
        for name in ["config.json", "log.txt", "metrics.csv", "curves.svg", "last.safetensors",
                     "last.state.safetensors", "best.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + name), name)
        }
        let csv = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,"
                       + "lr,seconds,images_per_second")
        XCTAssertEqual(csv.count, 3)

        let e = try CLI.run(["eval", file, "--checkpoint", out + "/best.safetensors", "--format", "json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let accuracy = try XCTUnwrap(object["accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertNotNil(object["loss"] as? Double)
        XCTAssertEqual((object["per_class"] as? [[String: Any]])?.count, 4)
        XCTAssertEqual((object["confusion_matrix"] as? [[Int]])?.map { $0.reduce(0, +) }.reduce(0, +), 64)
        // The test accuracy eval reports is the one training logged for the best epoch.
        let logged = try XCTUnwrap(csv.dropFirst().map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[6])! }.max())
        XCTAssertEqual(accuracy, logged, accuracy: 1e-12)
    }

    /// SIGINT mid-epoch: the step finishes, a checkpoint is written, the exit status is 130, and
    /// --resume finishes the run.
    func testInterruptWritesACheckpointAndResumeFinishes() throws {
        let file = try config("interrupt.json", samples: 40_000, epochs: 2)
        let out = runDirectory("interrupt")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["train", file, "--out", out]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Wait for the first progress line, then interrupt.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("batch ") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        kill(process.processIdentifier, SIGINT)
        seen.append(stdout.fileHandleForReading.readDataToEndOfFile())
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, text + errors)
        XCTAssertTrue(errors.contains("stopping after this step"), errors)
        XCTAssertTrue(text.contains("interrupted at epoch 1, batch "), text)
        XCTAssertTrue(text.contains("checkpoint written. Continue with: cnnctl train \(file) --resume \(out)"), text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/last.safetensors"))
        let resumed = try CLI.run(["train", file, "--resume", out])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming \(out) at epoch 1, batch "), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("epoch 2/2  train loss"), resumed.stdout)
    }

    func testCorruptDataFileIsAClearErrorWithStatus1() throws {
        let images = try CLI.temporaryFile("bad-images.idx", "not an idx file at all")
        let labels = try CLI.temporaryFile("bad-labels.idx", "nope")
        let file = try CLI.temporaryFile("corrupt.json", """
            {"model": {"name": "m", "input": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "dense", "units": 2}]},
             "data": {"train": {"type": "idx", "images": "\(images)", "labels": "\(labels)"}},
             "train": {"epochs": 1, "batch_size": 4, "optimizer": {"type": "sgd", "lr": 0.1}}}
            """)
        let r = try CLI.run(["train", file, "--out", runDirectory("corrupt")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(images): "), r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testAnExistingRunIsNotOverwritten() throws {
        let file = try config("twice.json", epochs: 1)
        let out = runDirectory("twice")
        XCTAssertEqual(try CLI.run(["train", file, "--out", out]).status, 0)
        let again = try CLI.run(["train", file, "--out", out])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.stderr, "error: \(out) already holds a run; continue it with --resume \(out) or choose another --out\n")
    }
}
