import CNNConfig
import CNNCore
import XCTest

@testable import CNNData

final class SequenceViewTests: XCTestCase {
    private func apply(_ view: SequenceView, _ image: [Float], _ shape: Shape) -> [Float] {
        var out = [Float](repeating: -1, count: image.count)
        image.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                view.apply(x.baseAddress!, shape: shape, into: y.baseAddress!)
            }
        }
        return out
    }

    func testShapes() throws {
        XCTAssertEqual(SequenceView.rows.shape(of: [1, 28, 28]), [28, 28])
        // rows: T = H, F = C·W; columns: T = W, F = C·H.
        XCTAssertEqual(SequenceView.rows.shape(of: [1, 2, 3]), [2, 3])
        XCTAssertEqual(SequenceView.columns.shape(of: [1, 2, 3]), [3, 2])
        XCTAssertEqual(SequenceView.rows.shape(of: [2, 2, 3]), [2, 6])
        XCTAssertEqual(SequenceView.columns.shape(of: [2, 2, 3]), [3, 4])
    }

    func testRowsAndColumnsValues() throws {
        // The 2x3 image [[0, 1, 2], [3, 4, 5]]: rows are its own layout, columns its
        // transpose [[0, 3], [1, 4], [2, 5]].
        let image: [Float] = [0, 1, 2, 3, 4, 5]
        XCTAssertEqual(apply(.rows, image, [1, 2, 3]), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(apply(.columns, image, [1, 2, 3]), [0, 3, 1, 4, 2, 5])
        // Two channels [[0, 1], [2, 3]] and [[4, 5], [6, 7]]: step t holds channel 0's row
        // (column) t, then channel 1's.
        let two: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        XCTAssertEqual(apply(.rows, two, [2, 2, 2]), [0, 1, 4, 5, 2, 3, 6, 7])
        XCTAssertEqual(apply(.columns, two, [2, 2, 2]), [0, 2, 4, 6, 1, 3, 5, 7])
    }

    /// A loader over the viewed dataset gives the batches of the plain one (normalized and
    /// augmented as images, same seeds) with each sample rearranged by the view. Two channels,
    /// so that neither view is the image's memory layout.
    func testLoaderAppliesTheViewAfterNormalizationAndAugmentation() throws {
        let images = SyntheticImages.make(count: 7, shape: [2, 3, 4], classes: 2, seed: 1,
                                          noise: 0.2)
        func batches(_ data: LabeledDataset, prefetch: Bool) throws -> [([Float], Shape, [Int32])] {
            let loader = BatchLoader(dataset: data, batchSize: 3, shuffle: true, seed: 5,
                                     normalization: Normalization(mean: [0.5, 0.4],
                                                                  std: [0.25, 0.5]),
                                     augmentation: Augmentation(cropPadding: 1,
                                                                horizontalFlip: true),
                                     prefetch: prefetch)
            var out: [([Float], Shape, [Int32])] = []
            try loader.forEachBatch(epoch: 1) { b in
                out.append((b.images.array, b.images.shape, Array(b.labels)))
                return true
            }
            return out
        }
        let plain = try batches(images, prefetch: false)
        for view in [SequenceView.rows, .columns] {
            let viewed = images.viewed(as: view)
            XCTAssertEqual(viewed.inputShape, view == .rows ? [3, 8] : [4, 6])
            XCTAssertEqual(viewed.sampleShape, [2, 3, 4])
            for prefetch in [false, true] {
                let got = try batches(viewed, prefetch: prefetch)
                // ⌈7 / 3⌉ = 3 batches of 3, 3, 1 samples.
                XCTAssertEqual(got.map(\.1), [3, 3, 1].map { viewed.inputShape.batched($0) })
                for (g, p) in zip(got, plain) {
                    let expected = stride(from: 0, to: p.0.count, by: 24).flatMap {
                        apply(view, Array(p.0[$0..<$0 + 24]), [2, 3, 4])
                    }
                    XCTAssertEqual(g.0, expected)
                    XCTAssertEqual(g.2, p.2)
                }
            }
        }
    }

    func testDataSpecViewsEverySet() throws {
        let source: JSONValue = ["type": "synthetic", "count": 8, "classes": 2,
                                 "shape": [1, 4, 5]]
        let data = try DataSpec.load(
            ["train": source, "validation": 0.25, "test": source, "sequence": "columns",
             "normalize": "auto", "augment": ["translate": 1]],
            path: "data", file: "c.json", baseDirectory: "")
        XCTAssertEqual(data.train.inputShape, [5, 4])
        XCTAssertEqual(data.validation?.inputShape, [5, 4])
        XCTAssertEqual(data.test?.inputShape, [5, 4])
        XCTAssertEqual(data.test?.sequenceView, .columns)
        // Statistics and augmentation stay in image space: one channel of [1, 4, 5].
        XCTAssertEqual(data.train.sampleShape, [1, 4, 5])
        XCTAssertEqual(data.normalization?.mean.count, 1)
        XCTAssertEqual(data.augmentation, Augmentation(translate: 1))
    }

    func testDataSpecMistakes() throws {
        func message(_ json: JSONValue) -> String {
            do {
                _ = try DataSpec.load(json, path: "data", file: "c.json", baseDirectory: "")
                return "no error"
            } catch {
                return "\(type(of: error)): \(error)"
            }
        }
        let vector: JSONValue = ["type": "synthetic", "count": 4, "classes": 2, "shape": [16]]
        XCTAssertEqual(message(["train": vector, "sequence": "rows"]),
                       "ConfigError: c.json: data.sequence: a sequence view needs image samples "
                        + "[C, H, W]; the training samples are [16]")
        XCTAssertEqual(message(["train": vector, "sequence": "row"]),
                       "ConfigError: c.json: data.sequence: unknown value \"row\"; valid: rows, "
                        + "columns (did you mean \"rows\"?)")
    }
}
