import Foundation
import XCTest

/// Image data through the commands: `bench-data`, `train` (and resume), `eval`, `predict`.
final class ImageCommandTests: XCTestCase {
    private lazy var directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-bench-data-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        for (folder, names) in [("flowers", ["flower.png", "flower-palette.png", "flower-rgba.png"]),
                                ("landscapes", ["china.jpg", "china-progressive.jpg", "china-444.jpg"])] {
            try? FileManager.default.createDirectory(atPath: "\(path)/images/\(folder)", withIntermediateDirectories: true)
            for name in names {
                try? FileManager.default.copyItem(atPath: FuzzTests.imageFixtures + "/" + name,
                                                  toPath: "\(path)/images/\(folder)/\(name)")
            }
        }
        FileManager.default.createFile(atPath: path + "/images/README.txt", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: path + "/config.json", contents: Data("""
            {"model": {"input": [3, 16, 16], "layers": [{"type": "conv2d", "filters": 4, "kernel": 3},
                       {"type": "global_avgpool"}, {"type": "dense", "units": 2}]},
             "data": {"train": {"type": "image_folder", "root": "images"},
                      "test": {"type": "image_folder", "root": "images"},
                      "transforms": {"train": [{"random_resized_crop": 16}, {"horizontal_flip": 0.5},
                                               {"normalize": "auto"}],
                                     "eval": [{"resize": 20}, {"center_crop": 16}, {"normalize": "auto"}]},
                      "cache": "memory", "loader_threads": 2},
             "train": {"epochs": 2, "batch_size": 2, "optimizer": {"type": "adam", "lr": 0.01}}}
            """.utf8))
        return path
    }()

    func testReportsBothPasses() throws {
        let r = try CLI.run(["bench-data", directory + "/config.json", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["workers"] as? Int, 2)
        XCTAssertEqual(report["cached"] as? Bool, true)
        let passes = report["passes"] as! [[String: Any]]
        XCTAssertEqual(passes.map { $0["split"] as! String }, ["train", "eval"])
        XCTAssertEqual(passes.map { $0["sample_shape"] as! [Int] }, [[3, 16, 16], [3, 16, 16]])
        // 3 batches of 2: 1 warm-up batch counted out of a 3-batch epoch (min(5, end − 1) = 2).
        XCTAssertTrue(passes.allSatisfy { ($0["images"] as! Int) == 2 && ($0["images_per_second"] as! Double) > 0 },
                      "\(passes)")
        XCTAssertTrue(r.stderr.contains("ignored 1 file(s)"), r.stderr)
    }

    func testTrainAndEvalNameTheFolderClasses() throws {
        let run = directory + "/run"
        try? FileManager.default.removeItem(atPath: run)
        let train = try CLI.run(["train", directory + "/config.json", "--out", run])
        XCTAssertEqual(train.status, 0, train.stderr)
        let log = try String(contentsOfFile: run + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("2 loader thread(s)"), log)
        XCTAssertTrue(log.contains("data: cache: 12 prepared images in memory"), log)
        let eval = try CLI.run(["eval", directory + "/config.json", "--checkpoint", run + "/last.safetensors",
                                "--format", "json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["class_names"] as? [String], ["flowers", "landscapes"])
        XCTAssertEqual(report["samples"] as? Int, 6)
    }

    /// Random crops, flips and loader threads are functions of (seed, epoch, index): a run cut
    /// after its first epoch and resumed ends with the weights of one run straight through.
    func testResumeOnImagesEqualsAnUninterruptedRun() throws {
        let whole = directory + "/whole", parts = directory + "/parts"
        for run in [whole, parts] { try? FileManager.default.removeItem(atPath: run) }
        XCTAssertEqual(try CLI.run(["train", directory + "/config.json", "--out", whole]).status, 0)
        XCTAssertEqual(try CLI.run(["train", directory + "/config.json", "--out", parts, "--epochs", "1"]).status, 0)
        let resumed = try CLI.run(["train", directory + "/config.json", "--resume", parts, "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: parts + "/last.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: whole + "/last.safetensors")))
    }

    /// A trained run of the image config, once per process.
    private func trainedCheckpoint() throws -> String {
        let run = directory + "/predict-run"
        if !FileManager.default.fileExists(atPath: run + "/best.safetensors") {
            XCTAssertEqual(try CLI.run(["train", directory + "/config.json", "--out", run]).status, 0)
        }
        return run + "/best.safetensors"
    }

    func testPredictFilesAndFolders() throws {
        let checkpoint = try trainedCheckpoint()
        let images = directory + "/images"
        let r = try CLI.run(["predict", directory + "/config.json", "--checkpoint", checkpoint, "--format", "json",
                             "--top", "2", images + "/landscapes", images + "/flowers/flower.png"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let predictions = report["predictions"] as! [[String: Any]]
        XCTAssertEqual(predictions.map { ($0["path"] as! String).split(separator: "/").last! },
                       ["china-444.jpg", "china-progressive.jpg", "china.jpg", "flower.png"])
        for p in predictions {
            let probabilities = p["probabilities"] as! [Double]
            XCTAssertEqual(probabilities.count, 2)
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-6)
            let top = p["top"] as! [[String: Any]]
            XCTAssertEqual(top.count, 2)
            // The checkpoint keeps the class names: the folders'.
            XCTAssertEqual(Set(top.map { $0["class"] as! String }), ["flowers", "landscapes"])
            XCTAssertEqual(top[0]["probability"] as! Double, probabilities.max()!, accuracy: 0)
        }
        // The same inputs agree with eval's per-sample predictions.
        let csv = directory + "/predictions.csv"
        let eval = try CLI.run(["eval", directory + "/config.json", "--checkpoint", checkpoint, "--predictions", csv])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "path,label,class,predicted_label,predicted_class,probability")
        XCTAssertEqual(rows.count, 7)
        let chinaRow = rows.first { $0.contains("landscapes/china.jpg") }!.split(separator: ",")
        let china = predictions[2]["top"] as! [[String: Any]]
        XCTAssertEqual(String(chinaRow[4]), china[0]["class"] as? String)
        XCTAssertEqual(Double(chinaRow[5])!, china[0]["probability"] as! Double, accuracy: 1e-6)
    }

    func testPredictBadFilesAndCSV() throws {
        let checkpoint = try trainedCheckpoint()
        let bad = FuzzTests.imageFixtures + "/bad-truncated.png", good = FuzzTests.imageFixtures + "/flower.png"
        let fail = try CLI.run(["predict", directory + "/config.json", "--checkpoint", checkpoint, good, bad])
        XCTAssertEqual(fail.status, 1)
        XCTAssertTrue(fail.stderr.contains("bad-truncated.png: is a truncated or corrupt PNG image"), fail.stderr)
        let skip = try CLI.run(["predict", directory + "/config.json", "--checkpoint", checkpoint, good, bad,
                                "--skip-bad", "--format", "csv", "--top", "1"])
        XCTAssertEqual(skip.status, 0, skip.stderr)
        XCTAssertTrue(skip.stderr.contains("predict: skipped 1 unreadable file(s): \(bad)"), skip.stderr)
        let lines = skip.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0], "path,class_1,probability_1")
        XCTAssertTrue(lines[1].hasPrefix(good + ","), String(lines[1]))
    }

    func testExportWritesAnONNXFile() throws {
        let checkpoint = try trainedCheckpoint()
        let model = directory + "/model.onnx"
        let r = try CLI.run(["export", directory + "/config.json", "--checkpoint", checkpoint, "-o", model])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("wrote \(model): "), r.stdout)
        // ModelProto's first field: ir_version (field 1, varint) = 8.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
        XCTAssertEqual(Array(bytes.prefix(2)), [0x08, 0x08])
        let missing = try CLI.run(["export", directory + "/config.json", "--checkpoint", directory + "/nope", "-o", model])
        XCTAssertEqual(missing.status, 1)
    }
}
