import Foundation
import XCTest

/// A text classifier end to end on a generated table: train (the vocabulary kept in the
/// checkpoint), eval, and predict on new texts with `--text` and `--text-file`, which need only
/// the config and the checkpoint.
final class TextClassificationCommandTests: XCTestCase {
    /// Two topics told apart by their words, texts of 2 to 7 words, 120 rows.
    private func table() -> String {
        let words = [["compiler", "kernel", "bug", "code", "linux", "memory"],
                     ["flour", "bake", "sugar", "oven", "bread", "butter"]]
        var rows = ["label\ttext"]
        for i in 0..<120 {
            let topic = i % 2, count = 2 + i % 6
            let text = (0..<count).map { words[topic][(i * 7 + $0 * 5) % 6] }.joined(separator: " ")
            rows.append("\(topic == 0 ? "computers" : "food")\t\(text.capitalized)!")
        }
        return rows.joined(separator: "\n") + "\n"
    }

    func testTrainEvalAndPredictTexts() throws {
        let dir = try CLI.freshDirectory("text")
        FileManager.default.createFile(atPath: dir + "/topics.tsv", contents: Data(table().utf8))
        let config = dir + "/config.json"
        FileManager.default.createFile(atPath: config, contents: Data("""
            {"model": {"input": [8], "layers": [
               {"type": "embedding", "name": "embed", "vocabulary": 16, "dim": 8, "padding_index": 0},
               {"type": "lstm", "name": "lstm", "hidden": 8, "bidirectional": true},
               {"type": "dense", "name": "head", "units": 2}]},
             "data": {"train": {"type": "text_classification", "file": "topics.tsv", "max_length": 8},
                      "validation": 0.25},
             "train": {"epochs": 4, "batch_size": 8, "optimizer": {"type": "adam", "lr": 0.02}}}
            """.utf8))
        let train = try CLI.run(["train", config, "--out", dir + "/run"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let checkpoint = dir + "/run/best.safetensors"
        let eval = try CLI.run(["eval", config, "--checkpoint", checkpoint, "--split", "validation", "--format", "json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(metrics["samples"] as? Int, 30)
        XCTAssertGreaterThan(try XCTUnwrap(metrics["accuracy"] as? Double), 0.9, "the topics share no word")

        FileManager.default.createFile(atPath: dir + "/new.txt", contents: Data("Bake the bread\n\nLinux kernel code\n".utf8))
        let predict = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--text", "Sugar, BUTTER and flour",
                                   "--text-file", dir + "/new.txt", "--format", "json", "--top", "1"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let predictions = try XCTUnwrap(object["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.map { $0["text"] as? String }, ["Sugar, BUTTER and flour", "Bake the bread", "Linux kernel code"])
        let top = predictions.map { (($0["top"] as? [[String: Any]])?.first?["class"] as? String) ?? "?" }
        XCTAssertEqual(top, ["food", "food", "computers"])

        let table = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--text", "oven", "--top", "2"])
        XCTAssertTrue(table.stdout.hasPrefix("oven  food "), table.stdout)

        // The embedding table's rows, labelled with the checkpoint's words (12 topic words, <pad>, <unk>).
        let embeddings = try CLI.run(["embeddings", config, "--checkpoint", checkpoint, "--layer", "embed", "-o", dir + "/emb"])
        XCTAssertEqual(embeddings.status, 0, embeddings.stderr)
        let metadata = try String(contentsOfFile: dir + "/emb/metadata.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(Array(metadata.prefix(3)), ["token\tindex", "<pad>\t0", "<unk>\t1"])
        XCTAssertEqual(metadata.count, 1 + 14)
        XCTAssertEqual(try String(contentsOfFile: dir + "/emb/vectors.tsv", encoding: .utf8).split(separator: "\n").count, 14)

        // A checkpoint without words cannot encode texts; texts and files are one input or the other.
        let image = dir + "/image.json"
        FileManager.default.createFile(atPath: image, contents: Data("""
            {"model": {"input": [8], "layers": [{"type": "dense", "units": 2}]},
             "data": {"train": {"type": "synthetic", "count": 8, "classes": 2, "shape": [8]}},
             "train": {"epochs": 1, "batch_size": 4, "optimizer": {"type": "sgd", "lr": 0.1}}}
            """.utf8))
        XCTAssertEqual(try CLI.run(["train", image, "--out", dir + "/plain"]).status, 0)
        let noWords = try CLI.run(["predict", image, "--checkpoint", dir + "/plain/last.safetensors", "--text", "x"])
        XCTAssertNotEqual(noWords.status, 0)
        XCTAssertTrue(noWords.stderr.contains("keeps no word vocabulary: it was not trained on text_classification or "
                                              + "fortune_topics data"), noWords.stderr)
        let both = try CLI.run(["predict", config, "--checkpoint", checkpoint, "--text", "x", "--split", "test"])
        XCTAssertTrue(both.stderr.contains("give image files or folders, --split (with optional --indices), or --text"),
                      both.stderr)
    }
}
