import Foundation
import XCTest

final class GenerateCommandTests: XCTestCase {
    /// Trains a tiny next-character LSTM on a short text for one epoch, then samples from it.
    func testGenerateSamplesFromATrainedCharacterModel() throws {
        let text = String(repeating: "the cat sat on the mat. ", count: 40)
        let corpus = try CLI.temporaryFile("corpus.txt", text)
        // Symbols: space . a c e h m n o s t = 11.
        let config = try CLI.temporaryFile("char.json", """
            {"model": {"name": "tiny_char", "input": [12], "layers": [
               {"type": "embedding", "name": "embed", "vocabulary": 11, "dim": 8},
               {"type": "lstm", "name": "lstm", "hidden": 16, "return_sequences": true},
               {"type": "dense", "name": "head", "units": 11}]},
             "data": {"train": {"type": "text", "file": "\(corpus)", "sequence_length": 12, "samples": 256},
                      "validation": 0.2},
             "train": {"epochs": 2, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.02}}}
            """)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-gen-\(getpid())").path
        try? FileManager.default.removeItem(atPath: out)
        let trained = try CLI.run(["train", config, "--out", out])
        XCTAssertEqual(trained.status, 0, trained.stderr + trained.stdout)

        let args = ["generate", config, "--checkpoint", out + "/last.safetensors", "--prime", "the ", "--length", "30"]
        let first = try CLI.run(args + ["--temperature", "0.5", "--seed", "3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let sample = first.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(sample.hasPrefix("the "), sample)
        XCTAssertEqual(sample.count, 34, sample)
        XCTAssertTrue(sample.allSatisfy { " .acehmnost".contains($0) }, sample)
        // The same seed gives the same text.
        XCTAssertEqual(try CLI.run(args + ["--temperature", "0.5", "--seed", "3"]).stdout, first.stdout)

        let unknown = try CLI.run(["generate", config, "--checkpoint", out + "/last.safetensors", "--prime", "dog"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr, "error: d (U+0064) at character 0 is not in the vocabulary of 11 symbols\n")
    }
}
