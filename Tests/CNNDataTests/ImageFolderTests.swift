import CNNConfig
import CNNCore
import Foundation
import XCTest

@testable import CNNData

/// The image-folder loader against the IDX loader on the same images (scripts/make-image-folder
/// writes Fashion-MNIST as lossless PNGs), and the loader's rules: classes, ignored files,
/// manifests, bad files, the cache, parallel loading.
final class ImageFolderTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let fixtures = repository + "/Tests/Fixtures/images"

    /// The first `limit` Fashion-MNIST images of each split as PNG folders, once per process.
    static func fashionFolder(channels: Int) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cnnctl-fmnist-png-\(getpid())-\(channels)").path
        if !FileManager.default.fileExists(atPath: out + "/test") {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", repository + "/scripts/make-image-folder", out, "--limit", "600",
                           "--channels", "\(channels)"]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "scripts/make-image-folder failed")
        }
        return out
    }

    private func load(_ json: JSONValue, inputChannels: Int? = nil) throws -> LoadedData {
        try DataSpec.load(json, path: "data", file: "c.json", baseDirectory: "/", inputChannels: inputChannels)
    }

    /// Every sample of `set` through its pipeline (no random steps), in dataset order.
    private func samples(_ set: LabeledDataset) throws -> [[Float]] {
        let per = set.sampleShape.count
        var rng = RNG(seed: 0)
        return try (0..<set.count).map { i in
            var x = [Float](repeating: 0, count: per)
            try x.withUnsafeMutableBufferPointer { try set.images!.write(i, rng: &rng, into: $0.baseAddress!) }
            return x
        }
    }

    func testPNGFolderGivesExactlyTheIDXTensors() throws {
        let idx = try FashionMNIST.load(split: "test")
        for channels in [1, 3] {
            let root = try Self.fashionFolder(channels: channels) + "/test"
            let data = try load(["train": ["type": "image_folder", "root": .string(root)]], inputChannels: channels)
            let set = data.train
            XCTAssertEqual(set.count, 600)
            XCTAssertEqual(set.sampleShape, [channels, 28, 28])
            XCTAssertEqual(set.classNames?.first, "0-T-shirt_top")
            XCTAssertEqual(set.classCount, 10)
            for (k, x) in try samples(set).enumerated() {
                // The file name is the image's index in the IDX file.
                let file = set.images!.files[k]
                let index = Int(file.split(separator: "/").last!.dropLast(4))!
                XCTAssertEqual(set.labels[k], idx.labels[index], file)
                let expected = Array(idx.values[index * 784..<(index + 1) * 784])
                for c in 0..<channels {
                    XCTAssertEqual(Array(x[c * 784..<(c + 1) * 784]), expected, file)
                }
            }
        }
    }

    func testAutoNormalizationIsThePixelStatisticsOfTheTrainingImages() throws {
        let root = try Self.fashionFolder(channels: 1) + "/test"
        let data = try load(["train": ["type": "image_folder", "root": .string(root)],
                             "transforms": ["train": [["normalize": "auto"]]]], inputChannels: 1)
        let idx = try FashionMNIST.load(split: "test").subset(Array(0..<600), name: "first 600")
        let expected = Normalization.compute(from: idx)
        let got = data.train.images!.pipeline.normalization!
        XCTAssertEqual(got.mean[0], expected.mean[0], accuracy: 1e-6)
        XCTAssertEqual(got.std[0], expected.std[0], accuracy: 1e-6)
    }

    func testLoaderThreadsAndTheCacheDoNotChangeTheBatches() throws {
        let root = try Self.fashionFolder(channels: 1) + "/test"
        func batches(threads: Int, cache: String, workers: Int) throws -> [[Float]] {
            let data = try load([
                "train": ["type": "image_folder", "root": .string(root)],
                "transforms": ["train": [["random_resized_crop": 24, "scale": [0.5, 1.0]], ["horizontal_flip": 0.5],
                                         ["color_jitter": 0.4], ["normalize": ["mean": [0.5], "std": [0.25]]]]],
                "cache": .string(cache), "loader_threads": .int(threads),
            ], inputChannels: 1)
            XCTAssertEqual(data.train.images!.isCached, cache == "memory")
            let loader = BatchLoader(dataset: data.train, batchSize: 64, shuffle: true, seed: 9,
                                     normalization: nil, augmentation: nil, workers: workers)
            var out: [[Float]] = []
            try loader.forEachBatch(epoch: 2) { b in out.append(b.images.array); return true }
            return out
        }
        let reference = try batches(threads: 1, cache: "none", workers: 1)
        XCTAssertEqual(reference.count, 10)
        XCTAssertEqual(try batches(threads: 2, cache: "memory", workers: 3), reference)
        XCTAssertEqual(try batches(threads: 1, cache: "memory", workers: 2), reference)
    }

    func testClassesIgnoredFilesAndEmptyFolders() throws {
        let root = TestFiles.directory("folder")
        let png = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/flower.png"))
        let jpg = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/china.jpg"))
        for (path, data) in [("b/x.PNG", png), ("a/y.jpeg", jpg), ("a/deep/z.png", png),
                             ("a/notes.txt", Data("x".utf8))] {
            try FileManager.default.createDirectory(atPath: root + "/" + path.split(separator: "/").dropLast()
                .joined(separator: "/"), withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: root + "/" + path, contents: data))
        }
        let data = try load(["train": ["type": "image_folder", "root": .string(root)],
                             "transforms": ["train": [["resize": [20, 30]]]]])
        XCTAssertEqual(data.train.classNames, ["a", "b"])
        XCTAssertEqual(data.train.images!.files.map { String($0.dropFirst(root.count + 1)) },
                       ["a/y.jpeg", "a/deep/z.png", "b/x.PNG"])
        XCTAssertEqual(data.train.labels, [0, 0, 1])
        XCTAssertEqual(data.train.sampleShape, [3, 20, 30])
        XCTAssertEqual(data.notices.count, 1)
        XCTAssertTrue(data.notices[0].contains("ignored 1 file(s)"), data.notices[0])
        // Without a resize step the two sizes cannot be batched.
        XCTAssertThrowsError(try load(["train": ["type": "image_folder", "root": .string(root)]])) {
            XCTAssertTrue("\($0)".contains("must end in one size for every image"), "\($0)")
        }
        try FileManager.default.createDirectory(atPath: root + "/c", withIntermediateDirectories: true)
        XCTAssertThrowsError(try load(["train": ["type": "image_folder", "root": .string(root)]])) {
            XCTAssertEqual("\($0)", "\(root)/c: is a class folder without images (.png, .jpg or .jpeg files); "
                           + "remove it or add images")
        }
        XCTAssertThrowsError(try load(["train": ["type": "image_folder", "root": .string(root + "/a/deep")]])) {
            XCTAssertTrue("\($0)".contains("has no class folders"), "\($0)")
        }
    }

    func testImageListWithNamesIndicesHeaderAndQuoting() throws {
        let dir = TestFiles.directory("list")
        let csv = """
            path,label
            \(Self.fixtures)/flower.png,flower
            "\(Self.fixtures)/flower-gray.png",china

            \(Self.fixtures)/flower-palette.png,flower
            """
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/list.csv", contents: Data(csv.utf8)))
        let data = try load(["train": ["type": "image_list", "file": .string(dir + "/list.csv")]])
        XCTAssertEqual(data.train.classNames, ["china", "flower"])
        XCTAssertEqual(data.train.labels, [1, 0, 1])
        let named = try load(["train": ["type": "image_list", "file": .string(dir + "/list.csv"),
                                        "class_names": ["flower", "china", "cat"]]])
        XCTAssertEqual(named.train.labels, [0, 1, 0])
        XCTAssertEqual(named.train.classCount, 3)
        // Relative paths resolve against the manifest's folder.
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        for name in ["flower.png", "flower-gray.png"] {
            try FileManager.default.copyItem(atPath: Self.fixtures + "/" + name, toPath: dir + "/images/" + name)
        }
        let tsv = "images/flower.png\t3\nimages/flower-gray.png\t0\n"
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/list.tsv", contents: Data(tsv.utf8)))
        let indexed = try load(["train": ["type": "image_list", "file": .string(dir + "/list.tsv")]])
        XCTAssertEqual(indexed.train.labels, [3, 0])
        XCTAssertEqual(indexed.train.classCount, 4)
        XCTAssertNil(indexed.train.classNames)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/missing.csv",
                                                     contents: Data("images/flower.png,0\nnope.png,1\n".utf8)))
        XCTAssertThrowsError(try load(["train": ["type": "image_list", "file": .string(dir + "/missing.csv")]])) {
            XCTAssertTrue("\($0)".hasPrefix("\(dir)/nope.png: cannot open: No such file or directory (listed at "
                                           + "\(dir)/missing.csv:2)"), "\($0)")
        }
        let bad = "\(Self.fixtures)/flower.png,dog\n"
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/bad.csv", contents: Data(bad.utf8)))
        XCTAssertThrowsError(try load(["train": ["type": "image_list", "file": .string(dir + "/bad.csv"),
                                                 "class_names": ["cat"]]])) {
            XCTAssertEqual("\($0)", "\(dir)/bad.csv:1: label \"dog\" is neither a class name nor an index 0...0")
        }
    }
}
