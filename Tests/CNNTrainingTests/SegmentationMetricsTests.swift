import XCTest
import CNNCore
import CNNTestSupport
@testable import CNNTraining

/// Per-pixel training: logits `[n, K, H, W]` as rows and back, the per-pixel loss's gradient
/// against finite differences, and IoU / pixel accuracy against a hand-computed confusion matrix.
final class SegmentationMetricsTests: XCTestCase {
    func testIoUFromAConfusionMatrix() {
        // rows true, columns predicted. Class 0: TP 5, FN 1+0, FP 2+1 → 5/9. Class 1: TP 3, FN 2,
        // FP 1 → 3/6. Class 2: TP 0, FN 0, FP 0+0: absent, no IoU. Pixel accuracy 8/12.
        let s = SegmentationScores(confusion: [[5, 1, 0], [2, 3, 0], [1, 0, 0]], classNames: ["a", "b", "c"])
        XCTAssertEqual(s.pixelAccuracy, 8.0 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(s.perClassIoU.map(\.iou), [5.0 / 9.0, 0.5, 0])
        XCTAssertEqual(s.meanIoU, (5.0 / 9.0 + 0.5 + 0) / 3, accuracy: 1e-12)
        let absent = SegmentationScores(confusion: [[2, 0], [0, 0]], classNames: ["a", "b"])
        XCTAssertEqual(absent.perClassIoU.map(\.iou), [1, nil])
        XCTAssertEqual(absent.meanIoU, 1)
    }

    func testIgnoredPixelsAreInNoCount() {
        let m = ClassificationMetrics(classes: 2, classNames: nil)
        m.isPerPixel = true
        let logits = Tensor(shape: [4, 2], values: [1, 0, 0, 1, 1, 0, 0, 1])
        [Int32(0), 255, 1, 1].withUnsafeBufferPointer { m.add(logits: logits, labels: $0, loss: 0.5, ignoredLabel: 255) }
        XCTAssertEqual(m.samples, 3)
        XCTAssertEqual(m.confusion, [[1, 0], [1, 1]])
        let r = m.report()
        XCTAssertEqual(r.segmentation?.pixelAccuracy ?? -1, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(r.segmentation?.perClassIoU.map(\.iou), [0.5, 0.5])
    }

    func testPixelRowsRoundTrip() throws {
        let rows = try XCTUnwrap(PixelRows(head: [3, 2, 2], maxBatch: 2))
        let logits = Tensor(shape: [2, 3, 2, 2], values: (0..<24).map(Float.init))
        let r = rows.rows(of: logits)
        XCTAssertEqual(r.shape, [8, 3])
        // Sample 0, pixel 1: channels 0, 1, 2 at 1, 5, 9; sample 1, pixel 0: 12, 16, 20.
        XCTAssertEqual(Array(r.array[3..<6]), [1, 5, 9])
        XCTAssertEqual(Array(r.array[12..<15]), [12, 16, 20])
        let g = rows.rowGradient(batch: 2)
        g.data.update(from: r.data, count: 24)
        let back = Tensor(shape: [2, 3, 2, 2])
        rows.write(g, into: back)
        XCTAssertEqual(back.array, logits.array)
        XCTAssertNil(PixelRows(head: [10], maxBatch: 2))
    }

    /// The loss of `[n, K, H, W]` logits through the rows, with an ignored pixel and class
    /// weights, against central differences.
    func testPerPixelLossGradient() throws {
        var rng = RNG(seed: 4)
        let shape: Shape = [2, 3, 2, 3], pixels = PixelRows(head: [3, 2, 3], maxBatch: 2)!
        let x = Tensor(shape: shape, values: (0..<shape.count).map { _ in rng.uniform(bound: 2) })
        let labels: [Int32] = [0, 1, 2, 255, 1, 0, 2, 2, 1, 0, 255, 1]
        func loss(_ gradient: Tensor? = nil) -> Double {
            labels.withUnsafeBufferPointer { y in
                let rowGradient = pixels.rowGradient(batch: 2)
                let l = SoftmaxCrossEntropy.evaluate(logits: pixels.rows(of: x), labels: y, classWeights: [0.2, 1, 3],
                                                     ignoreIndex: 255, gradient: gradient == nil ? nil : rowGradient)
                if let gradient { pixels.write(rowGradient, into: gradient) }
                return l
            }
        }
        let analytic = Tensor(shape: shape)
        _ = loss(analytic)
        for i in 0..<x.count {
            let saved = x.data[i], h: Float = 1e-2
            x.data[i] = saved + h
            let plus = loss()
            x.data[i] = saved - h
            let minus = loss()
            x.data[i] = saved
            XCTAssertEqual(Double(analytic.data[i]), (plus - minus) / (2 * Double(h)), accuracy: 1e-4, "logit \(i)")
        }
    }
}
