import Foundation
import XCTest
import CNNCore
@testable import CNNTraining

final class MetricsTests: XCTestCase {
    /// Logits that predict `predictions` (a 1 at the predicted class, 0 elsewhere).
    func oneHotLogits(_ predictions: [Int], classes: Int) -> Tensor {
        let t = Tensor(shape: [predictions.count, classes])
        for (i, p) in predictions.enumerated() { t.data[i * classes + p] = 1 }
        return t
    }

    func add(_ m: ClassificationMetrics, truth: [Int32], predicted: [Int], loss: Double = 0) {
        truth.withUnsafeBufferPointer {
            m.add(logits: oneHotLogits(predicted, classes: m.classes), labels: $0, loss: loss)
        }
    }

    func topK(_ values: [Float], _ k: Int) -> [Int] {
        values.withUnsafeBufferPointer { ClassificationMetrics.topK($0, k: k) }
    }

    // MARK: - Confusion matrix and per-class scores

    func testHandBuiltConfusionMatrix() {
        // Truth → prediction: class 0: 0, 0, 1; class 1: 1, 2; class 2: 0.
        // Confusion [[2, 1, 0], [0, 1, 1], [1, 0, 0]]; column sums (predicted) 3, 2, 1.
        // Precision 2/3, 1/2, 0/1; recall 2/3, 1/2, 0/1;
        // F1 = 2TP/(2TP + FP + FN): 4/(4 + 1 + 1) = 2/3, 2/(2 + 1 + 1) = 1/2, 0.
        // Macro F1 (2/3 + 1/2 + 0)/3 = 7/18; accuracy 3/6.
        let m = ClassificationMetrics(classes: 3, classNames: ["a", "b", "c"])
        add(m, truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 0])
        XCTAssertEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [1, 0, 0]])
        XCTAssertEqual(m.samples, 6)
        XCTAssertEqual(m.accuracy, 0.5)
        XCTAssertNil(m.top5Accuracy)
        XCTAssertEqual(m.perClass, [
            .init(name: "a", precision: 2.0 / 3, recall: 2.0 / 3, f1: 2.0 / 3, support: 3),
            .init(name: "b", precision: 0.5, recall: 0.5, f1: 0.5, support: 2),
            .init(name: "c", precision: 0, recall: 0, f1: 0, support: 1),
        ])
        XCTAssertEqual(m.macroF1, 7.0 / 18, accuracy: 1e-15)
    }

    func testZeroDivisionAndMacroAverageOverPresentClasses() {
        // 4 classes, truth [0, 0, 1, 1, 0], predicted [0, 1, 1, 1, 3]: class 2 never occurs,
        // class 3 only as a wrong prediction.
        // class 0: TP 1, FP 0, FN 2 → P 1, R 1/3, F1 2/(2 + 0 + 2) = 1/2.
        // class 1: TP 2, FP 1, FN 0 → P 2/3, R 1, F1 4/(4 + 1) = 4/5.
        // class 2: absent everywhere → P = R = F1 = 0 (zero_division = 0), left out of the mean.
        // class 3: predicted once, no support → P 0/1, R 0 (zero_division), F1 0.
        // Macro F1 over classes 0, 1, 3: (1/2 + 4/5 + 0)/3 = 13/30.
        let m = ClassificationMetrics(classes: 4, classNames: nil)
        add(m, truth: [0, 0, 1, 1, 0], predicted: [0, 1, 1, 1, 3])
        XCTAssertEqual(m.perClass, [
            .init(name: "0", precision: 1, recall: 1.0 / 3, f1: 0.5, support: 3),
            .init(name: "1", precision: 2.0 / 3, recall: 1, f1: 0.8, support: 2),
            .init(name: "2", precision: 0, recall: 0, f1: 0, support: 0),
            .init(name: "3", precision: 0, recall: 0, f1: 0, support: 0),
        ])
        XCTAssertEqual(m.macroF1, 13.0 / 30, accuracy: 1e-15)
    }

    func testBatchesAccumulateAndLossIsPerSampleMean() {
        // Losses 1.0 over 2 samples and 0.25 over 4: (2·1 + 4·0.25)/6 = 0.5.
        let split = ClassificationMetrics(classes: 3, classNames: nil)
        add(split, truth: [0, 1], predicted: [0, 2], loss: 1)
        add(split, truth: [2, 2, 1, 0], predicted: [2, 1, 1, 0], loss: 0.25)
        XCTAssertEqual(split.meanLoss, 0.5)
        let whole = ClassificationMetrics(classes: 3, classNames: nil)
        add(whole, truth: [0, 1, 2, 2, 1, 0], predicted: [0, 2, 2, 1, 1, 0])
        XCTAssertEqual(split.confusion, whole.confusion)
        XCTAssertEqual(split.accuracy, 4.0 / 6)

        split.reset()
        XCTAssertEqual(split.samples, 0)
        XCTAssertEqual(split.accuracy, 0)
        XCTAssertEqual(split.meanLoss, 0)
        XCTAssertEqual(split.macroF1, 0)
        XCTAssertEqual(split.confusion, [[0, 0, 0], [0, 0, 0], [0, 0, 0]])
    }

    func testArgmaxTiesGoToLowestIndex() {
        // Row [1, 3, 3] predicts class 1 (not 2); row [NaN, 0, 0] predicts 1 (NaN never wins).
        let m = ClassificationMetrics(classes: 3, classNames: nil)
        [Int32(2), 1].withUnsafeBufferPointer {
            m.add(logits: Tensor(shape: [2, 3], values: [1, 3, 3, .nan, 0, 0]), labels: $0,
                  loss: 0)
        }
        XCTAssertEqual(m.confusion, [[0, 0, 0], [0, 1, 0], [0, 1, 0]])
    }

    func testSingleOutputBinaryClassifier() {
        // One logit, two classes: class 1 when the logit is > 0 (0 itself → class 0).
        // Truth [1, 0, 1, 0], logits [2, −1, 0, 0.5] → predictions [1, 0, 0, 1].
        let m = ClassificationMetrics(classes: 2, classNames: ["no", "yes"])
        [Int32(1), 0, 1, 0].withUnsafeBufferPointer {
            m.add(logits: Tensor(shape: [4, 1], values: [2, -1, 0, 0.5]), labels: $0, loss: 0)
        }
        XCTAssertEqual(m.confusion, [[1, 1], [1, 1]])
        XCTAssertEqual(m.accuracy, 0.5)
    }

    // MARK: - Top-k

    func testTopKOrdersTiesByIndex() {
        let row: [Float] = [5, 1, 1, 1, 1, 1, 0.5]
        XCTAssertEqual(topK(row, 5), [0, 1, 2, 3, 4])
        XCTAssertEqual(topK([2, 7, 7, -1, 7], 3), [1, 2, 4])
        XCTAssertEqual(topK([0.5, .nan, 3], 3), [2, 0, 1])
        XCTAssertEqual(topK([1, 2], 5), [1, 0])
        XCTAssertEqual(topK([1, 2], 0), [])
        // rank agrees with topK: an index is in the top k exactly when its rank is below k.
        row.withUnsafeBufferPointer { r in
            let ranks = (0..<r.count).map {
                ClassificationMetrics.rank(of: $0, in: r.baseAddress!, count: r.count)
            }
            XCTAssertEqual(ranks, [0, 1, 2, 3, 4, 5, 6])
        }
    }

    func testTop5Accuracy() {
        // 7 classes. Row A = [5, 1, 1, 1, 1, 1, 0.5] (ranks 0…6 by value then index):
        // label 4 has rank 4 → in the top 5; label 5 has rank 5 → out; label 6 → out.
        // Row B = [0, 0, 0, 0, 0, 0, 9]: label 6 is the arg-max (top-1 and top-5);
        // label 3 rank 4 (6, 0, 1, 2 ahead) → in; label 5 rank 6 → out.
        // Top-5: A4, B6, B3 of 6 samples = 1/2; top-1: only B6 → 1/6.
        let a: [Float] = [5, 1, 1, 1, 1, 1, 0.5], b: [Float] = [0, 0, 0, 0, 0, 0, 9]
        let m = ClassificationMetrics(classes: 7, classNames: nil)
        [Int32(4), 5, 6, 6, 3, 5].withUnsafeBufferPointer {
            m.add(logits: Tensor(shape: [6, 7], values: a + a + a + b + b + b), labels: $0,
                  loss: 0)
        }
        XCTAssertEqual(m.top5Accuracy, 0.5)
        XCTAssertEqual(m.accuracy, 1.0 / 6)
    }

    // MARK: - Report

    func testReportEncodesEveryKey() throws {
        // Same data as testHandBuiltConfusionMatrix, with a mean loss of 0.75.
        let m = ClassificationMetrics(classes: 3, classNames: ["a", "b", "c"])
        add(m, truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 0], loss: 0.75)
        let data = try JSONEncoder().encode(m.report())
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["accuracy", "loss", "top5_accuracy", "macro_f1",
                                        "samples", "class_names", "confusion_matrix",
                                        "per_class"])
        XCTAssertEqual(json["accuracy"] as? Double, 0.5)
        XCTAssertEqual(json["loss"] as? Double, 0.75)
        XCTAssertTrue(json["top5_accuracy"] is NSNull, "absent top-5 is an explicit null")
        XCTAssertEqual(json["samples"] as? Int, 6)
        XCTAssertEqual(json["class_names"] as? [String], ["a", "b", "c"])
        XCTAssertEqual(json["confusion_matrix"] as? [[Int]], [[2, 1, 0], [0, 1, 1], [1, 0, 0]])
        let perClass = try XCTUnwrap(json["per_class"] as? [[String: Any]])
        XCTAssertEqual(perClass.count, 3)
        XCTAssertEqual(Set(perClass[1].keys), ["name", "precision", "recall", "f1", "support"])
        XCTAssertEqual(perClass[1]["name"] as? String, "b")
        XCTAssertEqual(perClass[1]["f1"] as? Double, 0.5)
        XCTAssertEqual(perClass[0]["support"] as? Int, 3)
    }
}
