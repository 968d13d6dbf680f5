import CNNConfig
import CNNCore
import XCTest

@testable import CNNData

/// `"type": "text"` sources in a config's data section.
final class TextDataSpecTests: XCTestCase {
    /// 200 characters cycling through "abcdefghij", a 100-character file of "abc" only, and
    /// one with a character the training text lacks.
    private func files() -> String {
        let dir = TestFiles.directory("text-spec")
        let letters = Array("abcdefghij".utf8)
        TestFiles.write((0..<200).map { letters[$0 % 10] }, to: "\(dir)/train.txt")
        TestFiles.write((0..<100).map { letters[$0 % 3] }, to: "\(dir)/abc.txt")
        TestFiles.write(Array("abcz".utf8), to: "\(dir)/z.txt")
        return dir
    }

    private func text(_ file: String, samples: Int = 20) -> JSONValue {
        ["type": "text", "file": .string(file), "sequence_length": 6, "samples": .int(samples)]
    }

    private func load(_ json: JSONValue, _ dir: String) throws -> LoadedData { try TestFiles.loadData(json, dir) }

    private func message(_ json: JSONValue, _ dir: String) -> String { TestFiles.loadError(json, dir, typed: true) }

    func testFractionHoldsOutTheTailAndTestUsesTheTrainingVocabulary() throws {
        let dir = files()
        let data = try load(["train": text("train.txt"), "validation": 0.25,
                             "test": text("abc.txt", samples: 3)], dir)
        // round(0.25 · 20) = 5 validation windows, from the last 50 characters.
        XCTAssertEqual(data.train.count, 15)
        XCTAssertEqual(data.validation?.count, 5)
        let expected = try TextCorpus.load("\(dir)/train.txt")
            .split(validationFraction: 0.25, samples: 20, length: 6, seed: 0, name: "text train")
        XCTAssertEqual(data.train.values, expected.train.values)
        XCTAssertEqual(data.validation?.labels, expected.validation.labels)
        // The "abc" test file is encoded with the training vocabulary a…j (a = 0, b = 1,
        // c = 2), not its own three symbols.
        XCTAssertEqual(data.test?.vocabulary, data.train.vocabulary)
        XCTAssertEqual(data.test?.classCount, 10)
        XCTAssertTrue(data.test!.values.allSatisfy { $0 <= 2 })
        XCTAssertEqual(data.train.inputShape, [6])
        XCTAssertNil(data.normalization)

        let loader = BatchLoader(dataset: data.train, batchSize: 4, shuffle: true, seed: 0,
                                 normalization: nil, augmentation: nil)
        var shapes: [Shape] = [], labelCounts: [Int] = []
        try loader.forEachBatch(epoch: 0) { b in
            shapes.append(b.images.shape)
            labelCounts.append(b.labels.count)
            return true
        }
        // ⌈15 / 4⌉ = 4 batches of 4, 4, 4, 3 windows of 6 steps.
        XCTAssertEqual(shapes, [[4, 6], [4, 6], [4, 6], [3, 6]])
        XCTAssertEqual(labelCounts, [24, 24, 24, 18])
    }

    func testValidationSourceIsEncodedWithTheTrainingVocabulary() throws {
        let dir = files()
        let data = try load(["train": text("train.txt"), "validation": text("abc.txt")], dir)
        XCTAssertEqual(data.train.count, 20)
        XCTAssertEqual(data.validation?.vocabulary, data.train.vocabulary)
        XCTAssertEqual(message(["train": text("train.txt"), "validation": text("z.txt")], dir),
                       "DataError: \(dir)/z.txt: z (U+007A) at character 3 is not in the "
                        + "training text's vocabulary of 10 symbols")
    }

    func testMistakes() throws {
        let dir = files()
        let train = text("train.txt")
        let image: JSONValue = ["type": "synthetic", "count": 4, "classes": 2, "shape": [6]]
        XCTAssertEqual(message(["train": train, "normalize": "auto"], dir),
                       "ConfigError: c.json: data.normalize: text samples are symbol indices "
                        + "for an embedding layer; normalization does not apply")
        XCTAssertEqual(message(["train": train, "sequence": "rows"], dir),
                       "ConfigError: c.json: data.sequence: a sequence view needs image samples "
                        + "[C, H, W]; the training samples are [6]")
        XCTAssertEqual(message(["train": train, "augment": ["translate": 1]], dir),
                       "ConfigError: c.json: data.augment: augmentation needs image samples "
                        + "[C, H, W]; the training samples are [6]")
        XCTAssertEqual(message(["train": image, "validation": train], dir),
                       "ConfigError: c.json: data.validation: is text but the training set is "
                        + "not; they must be the same kind")
        XCTAssertEqual(message(["train": train, "test": image], dir),
                       "ConfigError: c.json: data.test: the training set is text, so this must "
                        + "be a text source too")
        XCTAssertEqual(message(["train": ["type": "text", "file": "train.txt",
                                          "sequence_length": 0, "samples": 5]], dir),
                       "ConfigError: c.json: data.train.sequence_length: must be at least 1, "
                        + "got 0")
        // round(0.01 · 20) = 0 windows.
        XCTAssertEqual(message(["train": train, "validation": 0.01], dir),
                       "ConfigError: c.json: data.validation: 0.01 of 20 text windows is 0 "
                        + "windows; both the validation and the training part need at least 1")
        XCTAssertEqual(message(["train": ["type": "text", "file": "train.txt",
                                          "sequence_length": 200, "samples": 5]], dir),
                       "DataError: \(dir)/train.txt: the text has 200 characters (Unicode "
                        + "scalars); windows of sequence_length 200 need at least 201, since "
                        + "each window's labels run one character past it")
    }
}
