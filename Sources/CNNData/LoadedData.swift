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
    /// Threads a batch loader prepares batches on (image datasets; 1 for data in memory).
    public let loaderThreads: Int
    /// Lines for the user about how the data was read (files ignored or skipped, the cache).
    public let notices: [String]
    /// Image data: the evaluation transforms (what `predict` applies to new files), with
    /// `"auto"` normalization resolved to the training images' statistics.
    public let evaluationPipeline: ImagePipeline?

    public init(train: LabeledDataset, validation: LabeledDataset?, test: LabeledDataset?,
                normalization: Normalization?, augmentation: Augmentation?, loaderThreads: Int = 1,
                notices: [String] = [], evaluationPipeline: ImagePipeline? = nil) {
        self.train = train
        self.validation = validation
        self.test = test
        self.normalization = normalization
        self.augmentation = augmentation
        self.loaderThreads = loaderThreads
        self.notices = notices
        self.evaluationPipeline = evaluationPipeline
    }
}
