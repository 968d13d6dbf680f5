import CNNConfig
import CNNCore
import Foundation
import XCTest

@testable import CNNData

/// The Fashion-MNIST scenes generator (deterministic, checked by its SHA-256) and the
/// segmentation folder reader: palette masks read as indices, masks moving with their images
/// under augmentation, and every bad file a named error.
final class SegmentationFolderTests: XCTestCase {
    static let repository = ImageFolderTests.repository

    /// Runs scripts/make-fashion-scenes for 20 training and 5 test scenes; its printed lines.
    private func makeScenes(_ out: String) throws -> String {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory) else {
            throw XCTSkip("\(FashionMNIST.defaultDirectory) is not installed")
        }
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.repository + "/scripts/make-fashion-scenes", out, "--train", "20", "--test", "5"]
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "scripts/make-fashion-scenes failed: \(text)")
        return text
    }

    private func config(_ dir: String, classes: Int = 11) -> SegmentationFolder.Config {
        SegmentationFolder.Config(images: dir + "/images", masks: dir + "/masks", classNames: nil, classes: classes,
                                  ignoreIndex: nil, channels: 1)
    }

    func testGeneratorIsDeterministicAndTheReaderGetsItsMasks() throws {
        let out = TestFiles.directory("scenes")
        let text = try makeScenes(out)
        // The files' SHA-256 as first written (splitmix64 streams, so the same on any machine).
        XCTAssertTrue(text.contains("sha256 3ec5b8f1a187c53411b829c318f9a10384f7161a29374177a7e3552feed64483"), text)
        XCTAssertTrue(text.contains("sha256 4fd548cd4c3b790fce37fdf95022f0c2ffe580d4aa5839684ff37aebcfef7049"), text)
        let d = try SegmentationFolder.load(config(out + "/train"), images: out + "/train/images",
                                            masks: out + "/train/masks", name: "scenes")
        XCTAssertEqual(d.count, 20)
        XCTAssertEqual(d.sampleShape, [1, 64, 64])
        XCTAssertEqual(d.mask, MaskLabels(shape: [64, 64], ignored: 255))
        XCTAssertEqual(d.labelsPerSample, 4096)
        // Labelled pixels are exactly the item pixels above the threshold 50 (of 255).
        let mismatched = (0..<d.count * 4096).filter { (d.labels[$0] != 0) != (d.values[$0] * 255 > 50.5) }
        XCTAssertEqual(mismatched, [])
        let labelled = d.labels.filter { $0 != 0 }.count
        XCTAssertGreaterThan(labelled, 20 * 2 * 150)
        XCTAssertTrue(d.labels.allSatisfy { (0...10).contains($0) })
    }

    /// `size` resizes images bilinearly and masks by nearest neighbours (Pillow's NEAREST: output x
    /// reads ⌊(x + ½)·w_in/w_out⌋), so masks keep only classes they had.
    func testSizeResizesImagesAndMasksByNearestNeighbour() throws {
        let out = TestFiles.directory("scenes-resized")
        _ = try makeScenes(out)
        var c = config(out + "/test")
        c.size = [24, 40]
        let d = try SegmentationFolder.load(c, images: out + "/test/images", masks: out + "/test/masks", name: "s")
        XCTAssertEqual(d.sampleShape, [1, 24, 40])
        XCTAssertEqual(d.mask?.shape, [24, 40])
        let full = try ImageFile.decodeMask(out + "/test/masks/00001.png")
        for y in 0..<24 {
            for x in 0..<40 {
                let source = full.pixels[(y * 64 + 32) / 24 * 64 + (x * 64 + 32) / 40]
                XCTAssertEqual(d.labels[24 * 40 + y * 40 + x], Int32(source), "(\(y), \(x))")
            }
        }
        let image = try ImageFile.decode(out + "/test/images/00001.png", channels: 1)
        let resized = PillowResample.resize(image, width: 40, height: 24, filter: .bilinear)
        XCTAssertEqual(Array(d.values[960..<1920]), resized.pixels.map { Float($0) / 255 })
    }

    func testAugmentationMovesTheMaskWithTheImage() {
        let shape: Shape = [1, 4, 5]
        var image = (0..<20).map(Float.init), mask = (0..<20).map { Int32($0) }, scratch = [Float](repeating: 0, count: 20)
        var rng = RNG(seed: 3)
        let augmentation = Augmentation(cropPadding: 1, horizontalFlip: true, translate: 1)
        for _ in 0..<20 {
            image.withUnsafeMutableBufferPointer { x in
                mask.withUnsafeMutableBufferPointer { m in
                    augmentation.apply(x.baseAddress!, shape: shape, rng: &rng, scratch: &scratch, mask: m.baseAddress!,
                                       maskFill: 255)
                }
            }
            for i in 0..<20 { XCTAssertEqual(mask[i] == 255 ? 0 : Float(mask[i]), image[i], "pixel \(i)") }
            image = (0..<20).map(Float.init)
            mask = (0..<20).map { Int32($0) }
        }
    }

    func testBadFilesAreNamedErrors() throws {
        let fixtures = ImageFolderTests.fixtures
        func folder(_ name: String, image: String, mask: String?) -> String {
            let dir = TestFiles.directory("seg-" + name)
            try? FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
            try? FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
            try? FileManager.default.copyItem(atPath: fixtures + "/" + image, toPath: dir + "/images/a.png")
            if let mask { try? FileManager.default.copyItem(atPath: fixtures + "/" + mask, toPath: dir + "/masks/a.png") }
            return dir
        }
        func error(_ dir: String) -> String {
            do {
                _ = try SegmentationFolder.load(config(dir), images: dir + "/images", masks: dir + "/masks", name: "s")
                return "loaded"
            } catch { return "\(error)" }
        }
        let missing = folder("missing", image: "flower-gray.png", mask: nil)
        XCTAssertEqual(error(missing), "\(missing)/masks/a.png: does not exist: image a.png has no mask (masks are PNG "
                       + "files named by the image's stem)")
        let colour = folder("colour", image: "flower-gray.png", mask: "flower.png")
        XCTAssertEqual(error(colour), "\(colour)/masks/a.png: is a PNG of colour type 2 with 8-bit samples; a mask must be "
                       + "a palette or 8-bit grey PNG of class indices")
        let values = folder("values", image: "flower-gray.png", mask: "flower-gray.png")
        XCTAssertTrue(error(values).hasPrefix("\(values)/masks/a.png: holds class "), error(values))
        XCTAssertTrue(error(values).hasSuffix("the classes are 0...10 and 255 is ignored"), error(values))
    }

    /// Written through libpng and read back: grey and RGB pixels, and a palette mask's indices
    /// (read as indices by decodeMask, as VOC's colours by decode).
    func testPNGEncoderRoundTrips() throws {
        let dir = TestFiles.directory("png-encoder")
        let grey = PixelImage(width: 5, height: 3, channels: 1, pixels: (0..<15).map { UInt8($0 * 17) })
        let rgb = PixelImage(width: 2, height: 2, channels: 3, pixels: (0..<12).map { UInt8($0 * 20) })
        for (name, image) in [("grey", grey), ("rgb", rgb)] {
            TestFiles.write(try PNGEncoder.encode(image), to: "\(dir)/\(name).png")
            XCTAssertEqual(try ImageFile.decode("\(dir)/\(name).png", channels: image.channels), image, name)
        }
        let indices: [UInt8] = [0, 1, 2, 10, 255, 3]
        TestFiles.write(try PNGEncoder.encodeIndices(indices, width: 3, height: 2), to: "\(dir)/mask.png")
        XCTAssertEqual(try ImageFile.decodeMask("\(dir)/mask.png").pixels, indices)
        let colours = try ImageFile.decode("\(dir)/mask.png", channels: 3).pixels
        XCTAssertEqual(Array(colours[6..<9]), [0, 128, 0])        // VOC's class 2
        XCTAssertEqual(Array(colours[9..<12]), [64, 128, 0])      // class 10
        XCTAssertEqual(PNGEncoder.vocPalette[15], [192, 128, 128])   // "person"
    }

    func testOverlayKeepsBackgroundAndBlendsClasses() {
        let image: [Float] = [0, 0.5, 1, 1]
        let overlay = image.withUnsafeBufferPointer {
            SegmentationOverlay.render(image: $0, channels: 1, width: 2, height: 2, mask: [0, 0, 1, 2])
        }
        XCTAssertEqual(overlay.pixels, [0, 0, 0, 128, 128, 128, 192, 128, 128, 128, 192, 128])
    }

    func testConfigMistakesAreNamed() {
        func error(_ source: JSONValue) -> String {
            do {
                _ = try DataSpec.load(["train": source], path: "data", file: "c.json", baseDirectory: "/", inputChannels: 1)
                return "loaded"
            } catch { return "\(error)" }
        }
        let base: JSONValue = ["type": "segmentation_folder", "images": "i", "masks": "m"]
        func with(_ pairs: [(String, JSONValue)]) -> JSONValue {
            var o = base.objectValue!
            for (k, v) in pairs { o[k] = v }
            return .object(o)
        }
        XCTAssertEqual(error(base), "c.json: data.train: give \"class_names\" or \"classes\"")
        XCTAssertEqual(error(with([("classes", 3), ("class_names", ["a"])])),
                       "c.json: data.train.classes: give \"class_names\" or \"classes\", not both")
        XCTAssertEqual(error(with([("classes", 300)])), "c.json: data.train.classes: must be in 1...255, got 300")
        XCTAssertEqual(error(with([("classes", 11), ("ignore_index", 7)])),
                       "c.json: data.train.ignore_index: must be a mask value in 11...255 (the classes are 0...10), got 7")
        XCTAssertEqual(error(with([("classes", 11), ("channels", 2)])), "c.json: data.train.channels: must be 1 or 3, got 2")
        XCTAssertEqual(error(with([("classes", 11)])), "/i: does not exist")
    }
}
