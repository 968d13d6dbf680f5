import CNNCore

/// A dataset held in memory: `count` samples of `sampleShape` (`[C, H, W]` for images, `[T]`
/// for text windows) stored back to back in `values`, and `labelsPerSample` class labels per
/// sample: 1 for classification, `T` for per-time-step targets such as the next character at
/// each position of a text window. `labels` is then `[count, labelsPerSample]` flattened
/// sample-major, the layout of a sequence model's `[n, T, C]` logits read as `[n·T, C]`.
///
/// Images are stored as `byte / 255`, the `[0, 1]` range torchvision's `ToTensor` produces, so
/// normalization statistics and learning rates carry over from PyTorch recipes. The storage is
/// immutable, which is what makes the class `Sendable`: a background batch loader reads it while
/// the training loop runs.
public final class LabeledDataset: Sendable {
    public let name: String
    /// The shape samples are stored, normalized and augmented in.
    public let sampleShape: Shape
    /// `count × sampleShape.count` floats, sample-major; empty for an image-file dataset.
    public let values: [Float]
    /// The image files and their transforms, for `image_folder` and `image_list` sources: the
    /// samples are decoded as batches are made instead of held in `values`.
    public let images: ImageSet?
    /// `count × labelsPerSample` labels, sample-major.
    public let labels: [Int32]
    /// The number of classes; every label is in `0..<classCount`.
    public let classCount: Int
    public let classNames: [String]?
    /// The labels file whose largest label + 1 is `classCount`, where no class names fixed it.
    public let classCountSource: String?
    /// 1 for one class per sample, `T` for one per time step, `H·W` for one per pixel (`mask`).
    public let labelsPerSample: Int
    /// Set when the labels are a segmentation mask per sample.
    public let mask: MaskLabels?
    /// The symbols of a text dataset, whose class `k` is `vocabulary.symbols[k]`; nil otherwise.
    public let vocabulary: Vocabulary?
    /// The words of a text classification dataset, whose samples are their indices; nil otherwise.
    public let words: WordVocabulary?
    /// How batches present image samples to the model (as `[T, F]` sequences), or nil for as
    /// they are; see `inputShape`.
    public let sequenceView: SequenceView?
    public let count: Int

    /// The per-sample shape of the batches a `BatchLoader` makes: `sampleShape`, or the
    /// sequence view's `[T, F]` of it. What the model's input must declare.
    public var inputShape: Shape { sequenceView?.shape(of: sampleShape) ?? sampleShape }

    /// Whether the samples are symbol or word indices for an embedding rather than values.
    public var holdsIndices: Bool { vocabulary != nil || words != nil }

    /// `labels.count` must be a multiple of `labelsPerSample` (≥ 1), `values.count` that
    /// multiple times `sampleShape.count`, every label in `0..<classCount`, a sequence view
    /// needs `[C, H, W]` samples (the loaders check these on user data before calling this).
    public init(name: String, sampleShape: Shape, values: [Float], labels: [Int32],
                classCount: Int, classNames: [String]?, labelsPerSample: Int = 1,
                vocabulary: Vocabulary? = nil, sequenceView: SequenceView? = nil,
                classCountSource: String? = nil, images: ImageSet? = nil, mask: MaskLabels? = nil,
                words: WordVocabulary? = nil) {
        precondition(labelsPerSample >= 1 && labels.count % labelsPerSample == 0,
                     "\(labels.count) labels are not a multiple of \(labelsPerSample) per sample")
        let count = labels.count / labelsPerSample
        precondition(images.map { $0.count == count && values.isEmpty }
                        ?? (values.count == count * sampleShape.count),
                     "\(values.count) values for \(count) samples of \(sampleShape)")
        precondition(classNames == nil || classNames!.count == classCount,
                     "\(classNames?.count ?? 0) class names for \(classCount) classes")
        precondition(vocabulary == nil || vocabulary!.count == classCount,
                     "\(vocabulary?.count ?? 0) vocabulary symbols for \(classCount) classes")
        precondition(mask.map { $0.shape.count == labelsPerSample } ?? true,
                     "a mask of \(mask?.shape ?? []) for \(labelsPerSample) labels per sample")
        precondition(sequenceView == nil || sampleShape.rank == 3,
                     "a sequence view needs [C, H, W] samples, got \(sampleShape)")
        self.name = name
        self.sampleShape = sampleShape
        self.values = values
        self.images = images
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
        self.classCountSource = classCountSource
        self.labelsPerSample = labelsPerSample
        self.vocabulary = vocabulary
        self.sequenceView = sequenceView
        self.mask = mask
        self.words = words
        self.count = count
    }

    /// The same samples (sharing their storage) presented through `view`; the samples must be
    /// `[C, H, W]` when `view` is not nil.
    public func viewed(as view: SequenceView?) -> LabeledDataset {
        LabeledDataset(name: name, sampleShape: sampleShape, values: values, labels: labels,
                       classCount: classCount, classNames: classNames,
                       labelsPerSample: labelsPerSample, vocabulary: vocabulary,
                       sequenceView: view, classCountSource: classCountSource, images: images, mask: mask, words: words)
    }

    /// The same image files through `pipeline` (an image dataset's evaluation transforms for a
    /// validation part split off the training set), with the sample shape it makes.
    func transformed(by pipeline: ImagePipeline, role: String) throws -> LabeledDataset {
        guard let images else { return self }
        let set = images.with(pipeline: pipeline)
        return LabeledDataset(name: name, sampleShape: try set.sampleShape(name: role),
                              values: [], labels: labels, classCount: classCount,
                              classNames: classNames, labelsPerSample: labelsPerSample,
                              vocabulary: vocabulary, sequenceView: sequenceView,
                              classCountSource: classCountSource, images: set, mask: mask, words: words)
    }

    /// The image dataset with its images decoded and prepared once, held in memory.
    func cached(threads: Int) throws -> LabeledDataset {
        guard let images else { return self }
        return LabeledDataset(name: name, sampleShape: sampleShape, values: [], labels: labels,
                              classCount: classCount, classNames: classNames,
                              labelsPerSample: labelsPerSample, vocabulary: vocabulary,
                              sequenceView: sequenceView, classCountSource: classCountSource,
                              images: try images.cached(threads: threads), mask: mask, words: words)
    }

    /// The samples at `indices` (in that order) as a new dataset with the same classes.
    public func subset(_ indices: [Int], name: String) -> LabeledDataset {
        let per = sampleShape.count, n = count
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "subset index out of 0..<\(n)")
        func gather<T>(_ source: [T], _ per: Int) -> [T] {
            [T](unsafeUninitializedCapacity: indices.count * per) { out, made in
                source.withUnsafeBufferPointer { src in
                    for (j, i) in indices.enumerated() {
                        (out.baseAddress! + j * per).initialize(from: src.baseAddress! + i * per,
                                                                count: per)
                    }
                }
                made = indices.count * per
            }
        }
        return LabeledDataset(name: name, sampleShape: sampleShape,
                              values: images == nil ? gather(values, per) : [],
                              labels: gather(labels, labelsPerSample), classCount: classCount,
                              classNames: classNames, labelsPerSample: labelsPerSample,
                              vocabulary: vocabulary, sequenceView: sequenceView,
                              classCountSource: classCountSource, images: images?.subset(indices), mask: mask, words: words)
    }

    /// Splits off `round(validationFraction × count)` randomly chosen samples as a validation
    /// set (as `torch.utils.data.random_split` does, without stratification). The choice is a
    /// Fisher–Yates shuffle seeded with `mixSeed(seed, 0x5B1)`, so it is the same on every run
    /// and every machine; each part keeps the original sample order, which makes the parts easy
    /// to compare with the source. (Text windows overlap, so a random choice of them would
    /// validate on training text; `TextCorpus.split` holds out the end of the text instead.)
    ///
    /// The generator of a validation split seeded with `seed` (`TextDocuments.split` uses it too).
    static func splitRNG(_ seed: UInt64) -> RNG { RNG(seed: mixSeed(seed, 0x5B1)) }

    /// `validationFraction` must leave both parts non-empty (`DataSpec` checks this).
    public func split(validationFraction: Double, seed: UInt64)
        -> (train: LabeledDataset, validation: LabeledDataset) {
        let validationCount = Int((validationFraction * Double(count)).rounded())
        precondition(validationCount > 0 && validationCount < count,
                     "a validation fraction of \(validationFraction) of \(count) samples "
                        + "leaves a part empty")
        var rng = Self.splitRNG(seed)
        let (validation, train) = Permutation.split(count: count, first: validationCount, rng: &rng)
        return (subset(train, name: "\(name) (training part)"),
                subset(validation, name: "\(name) (validation part)"))
    }
}

/// Labels that are one class per pixel of an `[H, W]` mask (semantic segmentation), row-major,
/// with the value that marks a pixel as ignored by the loss and the metrics (VOC's 255 on object
/// borders), if any.
public struct MaskLabels: Sendable, Equatable {
    public let shape: Shape
    public let ignored: Int32?

    public init(shape: Shape, ignored: Int32?) {
        self.shape = shape
        self.ignored = ignored
    }
}
