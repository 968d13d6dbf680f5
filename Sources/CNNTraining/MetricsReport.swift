/// What `ClassificationMetrics` measured over an evaluation, in the shape written to
/// `metrics.json` / printed by `cnnctl eval --format json`:
///
///     {"accuracy": 0.91, "loss": 0.25, "top5_accuracy": 0.998 | null, "macro_f1": 0.90,
///      "samples": 10000, "class_names": [...], "confusion_matrix": [[...], ...],
///      "per_class": [{"name": "T-shirt/top", "precision": 0.86, "recall": 0.85, "f1": 0.855,
///                     "support": 1000}, ...]}
///
/// `confusion_matrix[i][j]` counts samples of true class `i` predicted as `j`. `class_names`
/// are the dataset's names, or the class indices as strings when the dataset has none.
/// `top5_accuracy` is null for five classes or fewer (it would always be 1). A segmentation
/// model's report (one prediction per pixel: `samples` counts pixels) adds `pixel_accuracy`,
/// `mean_iou` and `per_class_iou` (`SegmentationScores`).
public struct MetricsReport: Encodable, Sendable, Equatable {
    /// One class's scores, as scikit-learn's `classification_report` rows.
    public struct ClassMetrics: Encodable, Sendable, Equatable {
        public var name: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int

        public init(name: String, precision: Double, recall: Double, f1: Double, support: Int) {
            self.name = name
            self.precision = precision
            self.recall = recall
            self.f1 = f1
            self.support = support
        }
    }

    public var accuracy: Double
    public var loss: Double
    public var top5Accuracy: Double?
    public var macroF1: Double
    public var samples: Int
    public var classNames: [String]
    public var confusionMatrix: [[Int]]
    public var perClass: [ClassMetrics]
    /// Set for per-pixel predictions.
    public var segmentation: SegmentationScores?

    public init(accuracy: Double, loss: Double, top5Accuracy: Double?, macroF1: Double,
                samples: Int, classNames: [String], confusionMatrix: [[Int]],
                perClass: [ClassMetrics]) {
        self.accuracy = accuracy
        self.loss = loss
        self.top5Accuracy = top5Accuracy
        self.macroF1 = macroF1
        self.samples = samples
        self.classNames = classNames
        self.confusionMatrix = confusionMatrix
        self.perClass = perClass
    }

    enum CodingKeys: String, CodingKey {
        case accuracy, loss, samples
        case top5Accuracy = "top5_accuracy"
        case macroF1 = "macro_f1"
        case classNames = "class_names"
        case confusionMatrix = "confusion_matrix"
        case perClass = "per_class"
    }

    /// Written by hand so that an absent top-5 accuracy is an explicit `null` rather than a
    /// missing key (the synthesized encoder skips nil), keeping the schema fixed for readers.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(loss, forKey: .loss)
        try c.encode(top5Accuracy, forKey: .top5Accuracy)
        try c.encode(macroF1, forKey: .macroF1)
        try c.encode(samples, forKey: .samples)
        try c.encode(classNames, forKey: .classNames)
        try c.encode(confusionMatrix, forKey: .confusionMatrix)
        try c.encode(perClass, forKey: .perClass)
        try segmentation?.encode(to: encoder)
    }
}
