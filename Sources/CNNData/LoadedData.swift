/// What a config's `"data"` section describes, loaded: the datasets and the preprocessing the
/// batch loaders apply to them.
public struct LoadedData: Sendable {
    public let train: LabeledDataset
    public let validation: LabeledDataset?
    public let test: LabeledDataset?
    /// Applied to every set (statistics of the training set when `"auto"`).
    public let normalization: Normalization?
    /// Applied to the training set only.
    public let augmentation: Augmentation?

    public init(train: LabeledDataset, validation: LabeledDataset?, test: LabeledDataset?,
                normalization: Normalization?, augmentation: Augmentation?) {
        self.train = train
        self.validation = validation
        self.test = test
        self.normalization = normalization
        self.augmentation = augmentation
    }
}
