/// One line of a run's history: what an epoch measured, as written to `metrics.csv` and drawn in
/// `curves.svg`. Losses are batch-weighted means over the split; accuracies are fractions in
/// [0, 1]; a split the run does not have (no validation or test set) is nil. `lr` is the rate in
/// force at the epoch's last step, `seconds` the epoch's wall time (training and evaluation).
/// Encoded with the snake_case names of the CSV columns. A segmentation run (per-pixel labels)
/// also has the mean IoU of its validation and test sets; its accuracies are pixel accuracies.
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var lr: Float
    public var seconds: Double
    public var imagesPerSecond: Double
    public var valMeanIoU: Double?
    public var testMeanIoU: Double?

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double,
                valLoss: Double? = nil, valAccuracy: Double? = nil,
                testLoss: Double? = nil, testAccuracy: Double? = nil,
                lr: Float, seconds: Double, imagesPerSecond: Double,
                valMeanIoU: Double? = nil, testMeanIoU: Double? = nil) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.valLoss = valLoss
        self.valAccuracy = valAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.lr = lr
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.valMeanIoU = valMeanIoU
        self.testMeanIoU = testMeanIoU
    }

    /// Whether the record has segmentation metrics (`metrics.csv` then has their columns).
    public var hasMeanIoU: Bool { valMeanIoU != nil || testMeanIoU != nil }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epoch
        case trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy"
        case valLoss = "val_loss"
        case valAccuracy = "val_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
        case lr
        case seconds
        case imagesPerSecond = "images_per_second"
        case valMeanIoU = "val_mean_iou"
        case testMeanIoU = "test_mean_iou"
    }
}
