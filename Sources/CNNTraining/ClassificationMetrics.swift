import CNNCore

/// Accumulates classification results batch by batch: accuracy, top-5 accuracy, mean loss, the
/// confusion matrix and per-class precision / recall / F1, with scikit-learn's definitions
/// (`sklearn.metrics.precision_recall_fscore_support`):
///
///     precision_c = TP_c / (TP_c + FP_c)     recall_c = TP_c / (TP_c + FN_c)
///     F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c)   (= 2PR/(P + R))
///     macro F1 = mean of F1_c over the classes that occur as a label or a prediction
///
/// A class that is never predicted has precision 0, and one with no samples recall 0 —
/// sklearn's `zero_division=0` — so a degenerate model scores 0 instead of producing NaN. The
/// macro average skips classes absent from both labels and predictions, as sklearn does with
/// its default `labels=None`, so evaluating on a subset that lacks a class is not penalized.
///
/// The prediction is the arg-max of the logits, ties going to the lowest index (as
/// `torch.argmax` on CPU and `numpy.argmax`). A model with a single output and two classes
/// (binary cross-entropy on one logit) predicts class 1 when the logit is > 0. NaN logits rank
/// below every number, so a NaN never wins.
public final class ClassificationMetrics {
    public let classes: Int
    /// The dataset's class names, or the indices as strings when it has none.
    public let classNames: [String]
    /// Row-major `classes × classes` counts, rows the true class, columns the prediction.
    private var counts: [Int]
    private var correct = 0
    private var top5Correct = 0
    private var lossSum = 0.0
    public private(set) var samples = 0
    /// Rows are pixels of segmentation masks: the report adds `SegmentationScores`.
    public var isPerPixel = false

    public init(classes: Int, classNames: [String]?) {
        precondition(classes > 0, "\(classes) classes")
        precondition(classNames == nil || classNames!.count == classes,
                     "\(classNames?.count ?? 0) class names for \(classes) classes")
        self.classes = classes
        self.classNames = classNames ?? (0..<classes).map(String.init)
        counts = Array(repeating: 0, count: classes * classes)
    }

    /// Adds a batch: `logits` `[n, classes]` (or `[n, 1]` with two classes), `n` labels in
    /// `0..<classes` or `ignoredLabel` (left out of every count), and the batch's mean loss
    /// (weighted by the rows counted in `meanLoss`).
    public func add(logits: Tensor, labels: UnsafeBufferPointer<Int32>, loss: Double, ignoredLabel: Int32? = nil) {
        let n = logits.shape[0]
        precondition(labels.count == n, "\(labels.count) labels for logits \(logits.shape)")
        guard n > 0 else { return }
        let outputs = logits.count / n
        precondition(outputs == classes || (outputs == 1 && classes == 2),
                     "logits \(logits.shape) for \(classes) classes")
        var counted = 0
        counts.withUnsafeMutableBufferPointer { counts in
            for i in 0..<n where labels[i] != ignoredLabel {
                counted += 1
                let row = UnsafePointer(logits.data + i * outputs)
                let label = Int(labels[i])
                precondition(label >= 0 && label < classes, "label \(label) not in 0..<\(classes)")
                let predicted = outputs == 1
                    ? (row[0] > 0 ? 1 : 0)
                    : Self.argmax(row, count: outputs)
                counts[label * classes + predicted] += 1
                if predicted == label { correct += 1 }
                if classes > 5, Self.rank(of: label, in: row, count: outputs) < 5 {
                    top5Correct += 1
                }
            }
        }
        lossSum += loss * Double(counted)
        samples += counted
    }

    /// Forgets everything added, keeping the allocation (one metrics object serves every epoch).
    public func reset() {
        counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        correct = 0
        top5Correct = 0
        lossSum = 0
        samples = 0
    }

    /// Fraction of samples whose prediction is the label (0 before any sample).
    public var accuracy: Double { samples > 0 ? Double(correct) / Double(samples) : 0 }

    /// Fraction of samples whose label is among the 5 highest logits (ties ordered as in
    /// `topK`); nil for five classes or fewer, where it is trivially 1.
    public var top5Accuracy: Double? {
        guard classes > 5 else { return nil }
        return samples > 0 ? Double(top5Correct) / Double(samples) : 0
    }

    /// The per-sample mean of the batch losses (0 before any sample).
    public var meanLoss: Double { samples > 0 ? lossSum / Double(samples) : 0 }

    /// `confusion[true][predicted]`.
    public var confusion: [[Int]] {
        (0..<classes).map { Array(counts[$0 * classes..<($0 + 1) * classes]) }
    }

    public var perClass: [MetricsReport.ClassMetrics] {
        (0..<classes).map { c in
            let tp = counts[c * classes + c]
            let support = (0..<classes).reduce(0) { $0 + counts[c * classes + $1] }
            let predicted = (0..<classes).reduce(0) { $0 + counts[$1 * classes + c] }
            let fp = predicted - tp, fn = support - tp
            return MetricsReport.ClassMetrics(
                name: classNames[c],
                precision: predicted > 0 ? Double(tp) / Double(predicted) : 0,
                recall: support > 0 ? Double(tp) / Double(support) : 0,
                f1: tp > 0 ? Double(2 * tp) / Double(2 * tp + fp + fn) : 0,
                support: support)
        }
    }

    /// Mean F1 over the classes that occur as a label or as a prediction (0 before any sample).
    public var macroF1: Double {
        let present = perClass.enumerated().filter { c, metrics in
            metrics.support > 0 || (0..<classes).contains { counts[$0 * classes + c] > 0 }
        }
        guard !present.isEmpty else { return 0 }
        return present.reduce(0) { $0 + $1.element.f1 } / Double(present.count)
    }

    public func report() -> MetricsReport {
        var report = MetricsReport(accuracy: accuracy, loss: meanLoss, top5Accuracy: top5Accuracy,
                                   macroF1: macroF1, samples: samples, classNames: classNames,
                                   confusionMatrix: confusion, perClass: perClass)
        if isPerPixel { report.segmentation = SegmentationScores(confusion: confusion, classNames: classNames) }
        return report
    }

    // MARK: - Ranking

    /// Whether `a` (at index `i`) ranks ahead of `b` (at `j`): larger first, ties to the lower
    /// index, NaN last — a strict total order, so sorting and counting agree.
    @inline(__always)
    static func ranksAhead(_ a: Float, _ i: Int, of b: Float, _ j: Int) -> Bool {
        if a.isNaN != b.isNaN { return b.isNaN }
        if a == b || a.isNaN { return i < j }
        return a > b
    }

    /// The index of the largest of `count` values, the lowest such index on ties.
    public static func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for k in 1..<max(count, 1) where ranksAhead(row[k], k, of: row[best], best) { best = k }
        return best
    }

    /// How many values rank ahead of `row[index]` (0 for the arg-max); the label is in the top
    /// k exactly when its rank is below k, which needs no sorting or allocation.
    public static func rank(of index: Int, in row: UnsafePointer<Float>, count: Int) -> Int {
        var ahead = 0
        for k in 0..<count where ranksAhead(row[k], k, of: row[index], index) { ahead += 1 }
        return ahead
    }

    /// The indices of the `k` largest values, largest first; equal values keep index order, so
    /// the result is always exactly `min(k, count)` distinct indices, consistent with `argmax`
    /// (first element) and `rank` (an index is listed exactly when its rank is below k).
    public static func topK(_ row: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
        let order = row.indices.sorted { ranksAhead(row[$0], $0, of: row[$1], $1) }
        return Array(order.prefix(max(k, 0)))
    }
}
