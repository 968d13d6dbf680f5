import CNNConfig
import CNNCore
import XCTest

@testable import CNNData

/// `data.transforms` spelling and the random steps' algorithms.
final class TransformSpecTests: XCTestCase {
    private func decode(_ json: JSONValue) throws -> TransformSpec {
        try TransformSpec.decode(json, path: "data.transforms.train", file: "c.json")
    }

    private func assertError(_ json: JSONValue, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try decode(json), line: line) {
            XCTAssertEqual("\($0)", "c.json: " + expected, line: line)
        }
    }

    func testStepsWithOptions() throws {
        let spec = try decode([["random_resized_crop": 224, "scale": [0.5, 1], "interpolation": "bicubic"],
                               ["horizontal_flip": true], ["color_jitter": 0.4, "saturation": 0.1],
                               ["random_crop": [20, 30], "padding": 4], ["resize": 256],
                               ["center_crop": [200, 224]], ["normalize": "imagenet"]])
        XCTAssertEqual(spec.steps, [
            .randomResizedCrop(height: 224, width: 224, scale: 0.5...1, ratio: 0.75...(4.0 / 3), filter: .bicubic),
            .horizontalFlip(probability: 0.5), .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.1),
            .randomCrop(height: 20, width: 30, padding: 4), .resize(.shorterSide(256), .bilinear),
            .centerCrop(height: 200, width: 224),
        ])
        XCTAssertEqual(spec.normalize, .values(TransformSpec.imagenet))
        XCTAssertEqual(ImagePipeline(steps: spec.steps, normalization: nil).preparedSteps, 0)
    }

    func testMistakesNameTheStep() {
        assertError([["resize": 256, "center_crop": 224]], "data.transforms.train[0]: names 2 steps "
                    + "(resize, center_crop); write each as its own object in the list")
        assertError([["rezise": 256]], "data.transforms.train[0]: names no step; a step is one of resize, "
                    + "center_crop, random_resized_crop, random_crop, horizontal_flip, color_jitter, normalize "
                    + "(did you mean \"resize\"?)")
        assertError([["center_crop": [0, 4]]], "data.transforms.train[0].center_crop: expected a size N or "
                    + "[height, width], each 1...16384, got an array")
        assertError([["horizontal_flip": 2]], "data.transforms.train[0].horizontal_flip: expected a number in "
                    + "0.0...1.0, got an integer (2)")
        assertError([["resize": 8, "interpolation": "lanczos"]], "data.transforms.train[0].interpolation: "
                    + "unknown value \"lanczos\"; valid: bilinear, bicubic")
        assertError([["random_resized_crop": 8, "scale": [1, 0.5]]], "data.transforms.train[0].scale: expected "
                    + "[low, high] with 0 < low ≤ high, got [1.0, 0.5]")
        assertError([["normalize": "auto"], ["center_crop": 4]], "data.transforms.train[0]: normalize must be the "
                    + "last step (it acts on the tensor)")
        assertError([["center_crop": 4, "padding": 1]], "data.transforms.train[0].padding: unknown key "
                    + "\"padding\"; valid keys: center_crop")
    }

    func testRandomResizedCropBoxesFollowTorchvisionsRules() {
        var rng = RNG(seed: 1)
        for _ in 0..<2000 {
            let box = ImageTransform.randomResizedBox(height: 60, width: 90, scale: 0.08...1,
                                                      ratio: 0.75...(4.0 / 3), rng: &rng)
            XCTAssertTrue(box.top >= 0 && box.left >= 0 && box.top + box.height <= 60 && box.left + box.width <= 90)
            let area = Double(box.width * box.height) / 5400, ratio = Double(box.width) / Double(box.height)
            // Rounding to whole pixels moves area and ratio a little past their ranges.
            XCTAssertTrue(area > 0.06 && area <= 1, "\(box)")
            XCTAssertTrue(ratio > 0.7 && ratio < 1.4, "\(box)")
        }
        // A 1x100 strip never fits a box of ratio ≤ 4/3 in 10 tries: the fallback is the centred
        // 1x1 box of the largest allowed ratio (torchvision: w = round(h · max(ratio))).
        let strip = ImageTransform.randomResizedBox(height: 1, width: 100, scale: 0.9...1,
                                                    ratio: 0.75...(4.0 / 3), rng: &rng)
        XCTAssertEqual([strip.top, strip.left, strip.height, strip.width], [0, 49, 1, 1])
    }

    func testRandomStepsDependOnlyOnTheirGenerator() {
        let image = PixelImage(width: 9, height: 7, channels: 3, pixels: (0..<189).map { UInt8($0) })
        let steps: [ImageTransform] = [.randomCrop(height: 7, width: 9, padding: 2), .horizontalFlip(probability: 0.5),
                                       .colorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5)]
        func run(_ seed: UInt64) -> PixelImage {
            var rng = RNG(seed: seed)
            return steps.reduce(image) { $1.apply($0, rng: &rng) }
        }
        XCTAssertEqual(run(3), run(3))
        XCTAssertEqual(Set((0..<20).map { run($0).pixels }).count, 20)
        // Padding 2 around a 7x9 image and a 7x9 window: at most 2 black rows or columns.
        for seed: UInt64 in 0..<20 {
            var rng = RNG(seed: seed)
            let crop = steps[0].apply(image, rng: &rng)
            XCTAssertEqual([crop.height, crop.width], [7, 9])
        }
    }
}
