import CNNConfig
import CNNCore
import Foundation
import XCTest

@testable import CNNData

/// Bad image files: every one is an error naming the file and saying what is wrong, refused
/// before anything large is allocated; `"on_error": "skip"` leaves them out with one line.
final class ImageErrorTests: XCTestCase {
    static let fixtures = ImageFolderTests.fixtures

    func testEveryBadFileIsANamedError() {
        let expected = [
            "bad-empty.jpg": "is empty (0 bytes), not a PNG or JPEG image",
            "bad-not-an-image.png": "is not a PNG or JPEG image (it starts with bytes",
            "bad-truncated.png": "is a truncated or corrupt PNG image (libpng:",
            "bad-truncated.jpg": "is a truncated or corrupt JPEG image (decoding:",
            "bad-corrupt.jpg": "is a truncated or corrupt JPEG image (decoding: Corrupt JPEG data",
            "bad-bomb.png": "declares a 30000x30000 PNG image, 900000000 pixels; more than the limit of 89478485",
            "bad-bomb.jpg": "declares a 30000x30000 JPEG image, 900000000 pixels; more than the limit of 89478485",
            "china-cmyk.jpg": "is a CMYK JPEG image, which is not supported; convert it to RGB first",
        ]
        for (name, message) in expected {
            let path = Self.fixtures + "/" + name
            XCTAssertThrowsError(try ImageFile.decode(path, channels: 3), name) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): \(message)"), "\(name): \(error)")
            }
        }
    }

    func testThePixelLimitIsASetting() throws {
        let path = Self.fixtures + "/flower.png"
        XCTAssertThrowsError(try ImageFile.decode(path, channels: 3, maxPixels: 1000)) {
            XCTAssertTrue("\($0)".contains("63x79 PNG image, 4977 pixels; more than the limit of 1000"), "\($0)")
        }
        XCTAssertEqual(try ImageFile.decode(path, channels: 1, maxPixels: 4977).pixels.count, 4977)
    }

    func testSkipLeavesBadFilesOutWithOneLine() throws {
        let root = TestFiles.directory("skip")
        for (folder, names) in [("a", ["flower.png", "bad-truncated.png", "bad-bomb.jpg"]),
                                ("b", ["flower-gray.png", "bad-empty.jpg", "bad-corrupt.jpg", "bad-not-an-image.png"])] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            for name in names {
                try FileManager.default.copyItem(atPath: Self.fixtures + "/" + name, toPath: "\(root)/\(folder)/\(name)")
            }
        }
        let source: JSONValue = ["type": "image_folder", "root": .string(root)]
        XCTAssertThrowsError(try DataSpec.load(["train": source], file: "c.json", baseDirectory: "/")) {
            XCTAssertTrue("\($0)".hasPrefix("\(root)/a/bad-bomb.jpg: declares a 30000x30000"), "\($0)")
        }
        var skipping = source
        if case .object(var o) = skipping { o["on_error"] = "skip"; skipping = .object(o) }
        let data = try DataSpec.load(["train": skipping], file: "c.json", baseDirectory: "/")
        XCTAssertEqual(data.train.images!.files.map { String($0.dropFirst(root.count + 1)) },
                       ["a/flower.png", "b/flower-gray.png"])
        XCTAssertEqual(data.train.labels, [0, 1])
        XCTAssertEqual(data.notices.count, 1)
        let line = data.notices[0]
        XCTAssertTrue(line.hasPrefix("train: skipped 5 unreadable image(s) of 7 in \(root): \(root)/a/bad-bomb.jpg ("),
                      line)
        XCTAssertTrue(line.hasSuffix("; …"), line)
    }
}
