/// The scores of a per-pixel classification (semantic segmentation) from its confusion matrix
/// over pixels, as the VOC and Cityscapes benchmarks define them (Long et al. 2015, "Fully
/// Convolutional Networks", §5; torchmetrics' JaccardIndex):
///
///     pixel accuracy = Σ_k n_kk / Σ_k t_k
///     IoU_k = n_kk / (t_k + Σ_j n_jk − n_kk)      (t_k the pixels of class k)
///     mean IoU = mean of IoU_k over the classes present as a label or a prediction
///
/// A class absent from both labels and predictions has no IoU (null), and is left out of the
/// mean rather than counted as 0 or 1. Ignored pixels (VOC's 255) are in no count.
public struct SegmentationScores: Encodable, Sendable, Equatable {
    public struct ClassIoU: Encodable, Sendable, Equatable {
        public var name: String
        public var iou: Double?
    }

    public var pixelAccuracy: Double
    public var meanIoU: Double
    public var perClassIoU: [ClassIoU]

    /// From `confusion[true][predicted]` and the class names.
    public init(confusion: [[Int]], classNames: [String]) {
        let k = confusion.count
        let total = confusion.reduce(0) { $0 + $1.reduce(0, +) }
        let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
        pixelAccuracy = total > 0 ? Double(correct) / Double(total) : 0
        perClassIoU = (0..<k).map { c in
            let truth = confusion[c].reduce(0, +), predicted = (0..<k).reduce(0) { $0 + confusion[$1][c] }
            let union = truth + predicted - confusion[c][c]
            return ClassIoU(name: classNames[c], iou: union > 0 ? Double(confusion[c][c]) / Double(union) : nil)
        }
        let present = perClassIoU.compactMap(\.iou)
        meanIoU = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    enum CodingKeys: String, CodingKey {
        case pixelAccuracy = "pixel_accuracy", meanIoU = "mean_iou", perClassIoU = "per_class_iou"
    }
}
