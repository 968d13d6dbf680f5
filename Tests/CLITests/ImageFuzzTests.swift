import Foundation
import XCTest

/// Damaged PNG and JPEG files in an image folder — random bit flips, truncations, insertions,
/// and headers declaring extreme sizes — through `cnnctl train`: each run must pass or fail
/// with the damaged file named, within the memory and time bounds of every fuzz case.
extension FuzzTests {
    static let imageFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path

    /// The image header's size fields set to extreme values (PNG's IHDR; a JPEG's first SOF).
    private func extremeSize(_ file: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        var out = file
        let sizes: [UInt32] = [0, 1, 65_535, 65_536, 0x7FFF_FFFF, 0xFFFF_FFFF, 30_000]
        if out.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            for at in [16, 20] where rng.below(2) == 0 || at == 16 {
                let v = sizes[rng.below(sizes.count)]
                for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) }
            }
        } else if let sof = (2..<out.count - 9).first(where: { out[$0] == 0xFF && out[$0 + 1] == 0xC0 }) {
            for at in [sof + 5, sof + 7] {
                let v = UInt16(truncatingIfNeeded: sizes[rng.below(sizes.count)])
                out[at] = UInt8(v >> 8)
                out[at + 1] = UInt8(v & 0xFF)
            }
        }
        return out
    }

    func testMutatedImages() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 5)
        let names = ["china.jpg", "china-progressive.jpg", "china-gray.jpg", "flower.png", "flower-palette.png",
                     "flower-interlaced.png", "flower-rgb16.png", "flower-la.png"]
        let originals = try names.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.imageFixtures + "/" + $0))) }
        let model = Self.model.replacingOccurrences(of: "[1, 6, 6]", with: "[1, 8, 8]")
        for i in 0..<48 * Self.scale {
            let root = directory + "/images"
            try? FileManager.default.removeItem(atPath: root)
            for folder in ["a", "b"] {
                try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            }
            let k = rng.below(names.count)
            let bytes = rng.below(4) == 0 ? extremeSize(originals[k], &rng) : Mutate.bytes(originals[k], &rng)
            let damaged = root + "/a/" + names[k]
            FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
            FileManager.default.createFile(atPath: root + "/b/good.png", contents: Data(originals[3]))
            let skip = i % 4 == 3 ? ", \"on_error\": \"skip\"" : ""
            let config = write("images.json", Self.config(data: """
                "train": {"type": "image_folder", "root": "\(root)"\(skip)},
                "transforms": {"train": [{"random_resized_crop": 8}], "eval": [{"resize": [8, 8]}]}
                """, model: model))
            try? FileManager.default.removeItem(atPath: directory + "/image-run")
            try check(["train", config, "--out", directory + "/image-run"], blame: [damaged, config], "image \(i)")
        }
    }

    /// Damaged `image_list` manifests: quoting, delimiters, labels, paths, bytes that are not
    /// UTF-8.
    func testMutatedImageLists() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 6)
        let manifest = Array("""
            path,label
            \(Self.imageFixtures)/flower.png,flower
            "\(Self.imageFixtures)/china.jpg",china
            \(Self.imageFixtures)/flower-gray.png,1
            """.utf8)
        let model = Self.model.replacingOccurrences(of: "[1, 6, 6]", with: "[1, 8, 8]")
        for i in 0..<24 * Self.scale {
            let path = write("list.csv", Mutate.bytes(manifest, &rng))
            let names = i % 2 == 0 ? "" : ", \"class_names\": [\"flower\", \"china\", \"x\"]"
            let config = write("list.json", Self.config(data: """
                "train": {"type": "image_list", "file": "\(path)"\(names)},
                "transforms": {"train": [{"resize": [8, 8]}], "eval": [{"resize": [8, 8]}]}
                """, model: model))
            try? FileManager.default.removeItem(atPath: directory + "/list-run")
            try check(["train", config, "--out", directory + "/list-run"], blame: [path, config], "image list \(i)")
        }
    }
}
