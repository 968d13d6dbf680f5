import CNNConfig
import CNNCore
import XCTest

@testable import CNNData

final class DataSpecTests: XCTestCase {
    private func synthetic(count: Int, shape: JSONValue = [1, 4, 4]) -> JSONValue {
        ["type": "synthetic", "count": .int(count), "classes": 2, "shape": shape, "seed": 3]
    }

    private func load(_ json: JSONValue, base: String = "/cfg") throws -> LoadedData {
        try DataSpec.load(json, path: "data", file: "c.json", baseDirectory: base)
    }

    private func assertConfigError(_ json: JSONValue, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try load(json), line: line) { error in
            XCTAssertTrue(error is ConfigError, "\(type(of: error)): \(error)", line: line)
            XCTAssertEqual("\(error)", expected, line: line)
        }
    }

    func testFractionAutoNormalizationAndAugmentation() throws {
        let data = try load([
            "train": synthetic(count: 20), "validation": 0.25, "test": synthetic(count: 6),
            "normalize": "auto", "augment": ["random_crop": 1, "horizontal_flip": true],
        ])
        // round(0.25 · 20) = 5 held out with data.seed's default 0.
        let expected = SyntheticImages.make(count: 20, shape: [1, 4, 4], classes: 2, seed: 3,
                                            noise: 0.5)
            .split(validationFraction: 0.25, seed: 0)
        XCTAssertEqual(data.train.values, expected.train.values)
        XCTAssertEqual(data.validation?.values, expected.validation.values)
        XCTAssertEqual(data.test?.count, 6)
        // "auto" measures the training part only.
        XCTAssertEqual(data.normalization, Normalization.compute(from: expected.train))
        XCTAssertEqual(data.augmentation, Augmentation(cropPadding: 1, horizontalFlip: true))
    }

    func testIDXPathsResolveAgainstTheConfigDirectory() throws {
        let dir = TestFiles.directory("spec-idx")
        TestFiles.write(TestFiles.idxHeader([2, 1, 1]) + [0, 255], to: "\(dir)/img")
        TestFiles.write(TestFiles.idxHeader([2]) + [1, 0], to: "\(dir)/lab")
        let data = try load([
            "train": ["type": "idx", "images": "img", "labels": "lab", "class_names": ["a", "b"]],
            "validation": ["type": "idx", "images": .string("\(dir)/img"), "labels": "lab"],
            "normalize": ["mean": [0.5], "std": [0.5]], "seed": 4,
        ], base: dir)
        XCTAssertEqual(data.train.values, [0, 1])
        XCTAssertEqual(data.train.classNames, ["a", "b"])
        XCTAssertEqual(data.validation?.labels, [1, 0])
        XCTAssertNil(data.test)
        XCTAssertEqual(data.normalization, Normalization(mean: [0.5], std: [0.5]))
        XCTAssertNil(data.augmentation)
    }

    func testConfigMistakes() {
        let train = synthetic(count: 10)
        assertConfigError(["train": train, "augmnet": ["translate": 1]],
                          "c.json: data.augmnet: unknown key \"augmnet\"; valid keys: train, "
                            + "test, validation, normalize, augment, seed, sequence, transforms, "
                            + "cache, loader_threads (did you mean \"augment\"?)")
        assertConfigError(["train": ["type": "fashion-mnist", "split": "train"]],
                          "c.json: data.train.type: unknown value \"fashion-mnist\"; valid: "
                            + "fashion_mnist, idx, cifar10, synthetic, text, image_folder, "
                            + "image_list, segmentation_folder, text_classification, fortune_topics "
                            + "(did you mean \"fashion_mnist\"?)")
        assertConfigError(["train": ["split": "train"]],
                          "c.json: data.train: missing required key \"type\"; valid types: "
                            + "fashion_mnist, idx, cifar10, synthetic, text, image_folder, image_list, "
                            + "segmentation_folder, text_classification, fortune_topics")
        assertConfigError(["train": ["type": "fashion_mnist", "split": "val"]],
                          "c.json: data.train.split: unknown value \"val\"; valid: train, test")
        assertConfigError(["train": ["type": "cifar10", "files": [], "extra": 1]],
                          "c.json: data.train.extra: unknown key \"extra\"; valid keys: type, "
                            + "files")
        assertConfigError(["train": synthetic(count: 0)],
                          "c.json: data.train.count: must be at least 1, got 0")
        assertConfigError(["train": synthetic(count: 2, shape: [1, 0])],
                          "c.json: data.train.shape: must be 1 to 3 positive sizes such as "
                            + "[1, 28, 28], got [1, 0]")
        assertConfigError(["train": train, "validation": 1.5],
                          "c.json: data.validation: a fraction of the training set must be in "
                            + "(0, 1), got 1.5")
        // round(0.01 · 10) = 0 samples.
        assertConfigError(["train": train, "validation": 0.01],
                          "c.json: data.validation: 0.01 of 10 training samples is 0 samples; "
                            + "both the validation and the training part need at least 1")
        assertConfigError(["train": train, "validation": "10%"],
                          "c.json: data.validation: expected a fraction of the training set such "
                            + "as 0.1, or a data source object, got a string (\"10%\")")
        assertConfigError(["train": train, "test": synthetic(count: 2, shape: [1, 5, 5])],
                          "c.json: data.test: samples are [1, 5, 5] but the training samples "
                            + "are [1, 4, 4]")
        assertConfigError(["train": train, "normalize": "automatic"],
                          "c.json: data.normalize: expected \"auto\" or {\"mean\": [...], "
                            + "\"std\": [...]}, got a string (\"automatic\")")
        assertConfigError(["train": train, "normalize": ["mean": [0.5, 0.5], "std": [1, 1]]],
                          "c.json: data.normalize.mean: expected 1 value(s), one per channel of "
                            + "the [1, 4, 4] samples, got 2")
        assertConfigError(["train": train, "normalize": ["mean": [0.5], "std": [0]]],
                          "c.json: data.normalize.std[0]: must be a finite number > 0, got 0.0")
        assertConfigError(["train": train, "augment": ["random_crop": 4]],
                          "c.json: data.augment.random_crop: must be in 0...3 pixels for "
                            + "[1, 4, 4] samples, got 4")
        assertConfigError(["train": synthetic(count: 4, shape: [16]), "augment": ["translate": 1]],
                          "c.json: data.augment: augmentation needs image samples [C, H, W]; "
                            + "the training samples are [16]")
    }

    func testFileProblemsAreDataErrors() {
        XCTAssertThrowsError(try load(["train": ["type": "idx", "images": "no/img.gz",
                                                 "labels": "lab"]], base: "/nonexistent/"))
        { error in
            XCTAssertTrue(error is DataError)
            XCTAssertEqual("\(error)", "/nonexistent/no/img.gz: cannot open: No such file or "
                           + "directory")
        }
    }
}
