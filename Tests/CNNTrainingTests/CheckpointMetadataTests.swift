import CNNData
import XCTest

@testable import CNNTraining

/// The metadata `predict` reads back: what `Trainer` writes, and a malformed entry refused.
final class CheckpointMetadataTests: XCTestCase {
    func testReadsWhatIsWrittenAndRefusesTheRest() throws {
        let read = try CheckpointMetadata(["class_names": #"["a", "b,c"]"#, "words": #"["<pad>", "<unk>", "naïve"]"#,
                                           "eval_normalization": #"{"mean": [0.5, 0.25], "std": [0.125, 2]}"#],
                                          file: "w.safetensors")
        XCTAssertEqual(read.classNames, ["a", "b,c"])
        XCTAssertEqual(read.words?.words, ["<pad>", "<unk>", "naïve"])
        XCTAssertEqual(read.evalNormalization, Normalization(mean: [0.5, 0.25], std: [0.125, 2]))
        XCTAssertNil(try CheckpointMetadata([:], file: "w.safetensors").evalNormalization)
        for (key, bad) in [("class_names", "[1]"), ("eval_normalization", #"{"mean": [0.5], "std": [0, 1]}"#),
                           ("eval_normalization", #"{"mean": [0.5, "x"], "std": [1, 1]}"#),
                           ("eval_normalization", #"{"mean": [0.5], "std": [0]}"#), ("class_names", "{"),
                           ("words", #"["<unk>", "<pad>"]"#), ("words", "[")] {
            XCTAssertThrowsError(try CheckpointMetadata([key: bad], file: "w.safetensors")) {
                XCTAssertEqual("\($0)", "w.safetensors: metadata \"\(key)\" is not what cnnctl writes there")
            }
        }
    }
}
