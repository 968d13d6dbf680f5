import CNNCore
@testable import CNNData
import Foundation
import XCTest

/// Decoding and the deterministic transforms against the arrays Pillow 13 and torchvision 0.29
/// computed for the committed fixtures (scripts/make-image-fixtures; versions in
/// Tests/Fixtures/images/references.json): every byte must agree.
final class ImageReferenceTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path

    struct Case {
        var input: String, mode: String, steps: [[String: Any]], shape: [Int], output: String
    }

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/references.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func cases() throws -> [Case] {
        (try manifest()["cases"] as! [[String: Any]]).map {
            Case(input: $0["input"] as! String, mode: $0["mode"] as! String,
                 steps: $0["steps"] as! [[String: Any]], shape: $0["shape"] as! [Int],
                 output: $0["output"] as! String)
        }
    }

    /// One reference step, done the way the transforms do it.
    static func apply(_ step: [String: Any], to image: PixelImage) -> PixelImage {
        var rng = RNG(seed: 0)
        func size(_ v: Any) -> (Int, Int) { (v as? Int).map { ($0, $0) } ?? ((v as! [Int])[0], (v as! [Int])[1]) }
        if let v = step["resize"] {
            let filter = PillowResample.Filter(rawValue: step["interpolation"] as? String ?? "bilinear")!
            let target: ImageTransform.Size = (v as? Int).map { .shorterSide($0) }
                ?? .exact(height: (v as! [Int])[0], width: (v as! [Int])[1])
            return ImageTransform.resize(target, filter).apply(image, rng: &rng)
        }
        if let v = step["center_crop"] {
            let (h, w) = size(v)
            return ImageTransform.centerCrop(height: h, width: w).apply(image, rng: &rng)
        }
        if let box = step["resized_crop"] as? [String: Any] {
            let crop = image.cropped(top: box["top"] as! Int, left: box["left"] as! Int,
                                     height: box["height"] as! Int, width: box["width"] as! Int)
            let (h, w) = size(box["size"]!)
            return PillowResample.resize(crop, width: w, height: h, filter: .bilinear)
        }
        if let box = step["pad_crop"] as? [String: Any] {
            let p = box["padding"] as! Int, (h, w) = size(box["size"]!)
            return image.cropped(top: box["top"] as! Int - p, left: box["left"] as! Int - p, height: h, width: w)
        }
        if step["hflip"] != nil { return image.flippedHorizontally() }
        if let f = step["brightness"] as? Double { return image.brightnessAdjusted(f) }
        if let f = step["contrast"] as? Double { return image.contrastAdjusted(f) }
        if let f = step["saturation"] as? Double { return image.saturationAdjusted(f) }
        preconditionFailure("unknown reference step \(step)")
    }

    func testEveryReferenceCaseMatchesPillowExactly() throws {
        let cases = try Self.cases()
        XCTAssertGreaterThan(cases.count, 60)
        var compared = 0
        // Pillow reads 16-bit grey as mode I;16 and clips it to 255 when converting; cnnctl keeps
        // the high byte (testSixteenBitGreyKeepsTheHighByte).
        for c in cases where c.input != "flower-gray16.png" {
            let decoded = try ImageFile.decode(Self.directory + "/" + c.input, channels: c.mode == "L" ? 1 : 3)
            let image = c.steps.reduce(decoded) { Self.apply($1, to: $0) }
            let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + c.output)))
            let label = "\(c.input) \(c.mode) \(c.steps)"
            XCTAssertEqual([image.height, image.width, image.channels], c.shape, label)
            guard image.pixels.count == expected.count else { continue }
            let differing = zip(image.pixels, expected).filter { $0 != $1 }.count
            let largest = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertEqual(differing, 0, "\(label): \(differing) samples differ, by up to \(largest)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 60)
    }

    func testResizeSizesFollowTorchvisionsRule() throws {
        for entry in try Self.manifest()["resize_sizes"] as! [[String: Any]] {
            let input = entry["input"] as! [Int], output = entry["output"] as! [Int]
            let size = ImageTransform.shorterSide(entry["size"] as! Int, height: input[0], width: input[1])
            XCTAssertEqual([size.height, size.width], output, "\(entry)")
        }
    }

    func testSixteenBitGreyKeepsTheHighByte() throws {
        // The fixture's samples are the 8-bit grey image's v·257 plus a low-byte ramp, so the
        // high byte is v or, where the ramp carries, v + 1.
        let wide = try ImageFile.decode(Self.directory + "/flower-gray16.png", channels: 1)
        let narrow = try ImageFile.decode(Self.directory + "/flower-gray.png", channels: 1)
        XCTAssertEqual([wide.width, wide.height], [narrow.width, narrow.height])
        let offsets = Set(zip(wide.pixels, narrow.pixels).map { Int($0) - Int($1) })
        XCTAssertEqual(offsets, [0, 1])
    }
}
