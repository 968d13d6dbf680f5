import Foundation
import XCTest

/// A segmentation model end to end on a few Fashion-MNIST scenes: train, eval (IoU in the table
/// and JSON, mIoU columns in metrics.csv), predict masks and overlays as PNG files.
final class SegmentationCommandTests: XCTestCase {
    func testTrainEvalAndPredictMasks() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("dataset-fashion-mnist is not installed")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-seg-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.repositoryRoot.path + "/scripts/make-fashion-scenes", dir + "/scenes",
                       "--train", "24", "--test", "6", "--size", "56"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let source = { (split: String) in
            #"{"type": "segmentation_folder", "images": "scenes/\#(split)/images", "masks": "scenes/\#(split)/masks", "classes": 11, "channels": 1}"#
        }
        let config = dir + "/config.json"
        FileManager.default.createFile(atPath: config, contents: Data("""
            {"model": {"input": [1, 56, 56], "layers": [
               {"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
               {"type": "conv2d", "filters": 11, "kernel": 1}]},
             "data": {"train": \(source("train")), "test": \(source("test")), "normalize": "auto",
                      "augment": {"horizontal_flip": true}},
             "train": {"epochs": 2, "batch_size": 8, "optimizer": {"type": "adam", "lr": 0.01}, "monitor": "test_mean_iou"}}
            """.utf8))
        let train = try CLI.run(["train", config, "--out", dir + "/run"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let csv = try String(contentsOfFile: dir + "/run/metrics.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,lr,"
                                    + "seconds,images_per_second,val_mean_iou,test_mean_iou\n"), csv)
        let checkpoint = dir + "/run/best.safetensors"
        let eval = try CLI.run(["eval", config, "--checkpoint", checkpoint, "--format", "json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(metrics["samples"] as? Int, 6 * 56 * 56)
        XCTAssertEqual((metrics["per_class_iou"] as? [Any])?.count, 11)
        let meanIoU = try XCTUnwrap(metrics["mean_iou"] as? Double)
        XCTAssertTrue((0...1).contains(meanIoU))
        XCTAssertEqual(metrics["pixel_accuracy"] as? Double, metrics["accuracy"] as? Double)
        let predict = try CLI.run(["predict", config, "--checkpoint", checkpoint, dir + "/scenes/test/images/00002.png",
                                   "--masks", dir + "/masks"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertTrue(predict.stdout.hasPrefix(dir + "/scenes/test/images/00002.png → \(dir)/masks/00002.png: "), predict.stdout)
        for name in ["00002.png", "00002-overlay.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/masks/" + name), name)
        }
        // A classifier's head on masks: the error says the head a segmentation model needs.
        let wrongHead = dir + "/wrong.json"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
            of: #"{"type": "conv2d", "filters": 11, "kernel": 1}"#,
            with: #"{"type": "global_avgpool"}, {"type": "dense", "units": 11}"#)
        FileManager.default.createFile(atPath: wrongHead, contents: Data(text.utf8))
        let head = try CLI.run(["train", wrongHead, "--out", dir + "/wrong"])
        XCTAssertEqual(head.status, 2)
        XCTAssertTrue(head.stderr.contains("is [11]; the data has 11 classes at each pixel of 56x56 masks, so it must be "
                                           + "[11, 56, 56]"), head.stderr)
        let noMasks = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--split", "test"])
        XCTAssertEqual(noMasks.status, 1)
        XCTAssertTrue(noMasks.stderr.contains("give --masks DIR"), noMasks.stderr)
    }
}
