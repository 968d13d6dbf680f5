import Foundation

/// Renders a `MetricsReport` for people: headline numbers, a per-class table (sklearn's
/// classification_report layout) and the confusion matrix with class names.
public enum MetricsTable {
    public static func render(_ r: MetricsReport) -> String {
        var out: String
        if let s = r.segmentation {
            out = String(format: "pixels %d   pixel accuracy %.2f%%   mean IoU %.4f   loss %.4f", r.samples,
                         100 * s.pixelAccuracy, s.meanIoU, r.loss)
        } else {
            out = String(format: "samples %d   accuracy %.2f%%   loss %.4f", r.samples, 100 * r.accuracy, r.loss)
        }
        if let top5 = r.top5Accuracy { out += String(format: "   top-5 %.2f%%", 100 * top5) }
        out += String(format: "   macro F1 %.4f\n\n", r.macroF1)
        let width = max(12, (r.perClass.map(\.name.count).max() ?? 0) + 2)
        let iou = r.segmentation?.perClassIoU.map { $0.iou.map { String(format: " %8.4f", $0) } ?? "        -" }
        out += pad("class", width) + "precision   recall       f1  support" + (iou == nil ? "" : "      IoU") + "\n"
        for (k, c) in r.perClass.enumerated() {
            out += pad(c.name, width) + String(format: "%9.4f %8.4f %8.4f %8d", c.precision, c.recall, c.f1, c.support)
                + (iou?[k] ?? "") + "\n"
        }
        out += "\nconfusion matrix (rows: true class, columns: predicted)\n"
        let cell = max(5, String(r.confusionMatrix.flatMap { $0 }.max() ?? 0).count + 1)
        let labels = r.perClass.enumerated().map { "\($0) \($1.name)" }
        let labelWidth = (labels.map(\.count).max() ?? 0) + 1
        out += pad("", labelWidth) + r.perClass.indices.map { lpad(String($0), cell) }.joined() + "\n"
        for (label, row) in zip(labels, r.confusionMatrix) {
            out += pad(label, labelWidth) + row.map { lpad(String($0), cell) }.joined() + "\n"
        }
        return out
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }

    private static func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s
    }
}
