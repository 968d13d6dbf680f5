import CNNCore

/// A classification dataset held in memory: `count` samples of `sampleShape` (`[C, H, W]` for
/// images) stored back to back in `values`, and one class label per sample.
///
/// Images are stored as `byte / 255`, the `[0, 1]` range torchvision's `ToTensor` produces, so
/// normalization statistics and learning rates carry over from PyTorch recipes. The storage is
/// immutable, which is what makes the class `Sendable`: a background batch loader reads it while
/// the training loop runs.
public final class LabeledDataset: Sendable {
    public let name: String
    public let sampleShape: Shape
    /// `count × sampleShape.count` floats, sample-major.
    public let values: [Float]
    public let labels: [Int32]
    /// The number of classes; every label is in `0..<classCount`.
    public let classCount: Int
    public let classNames: [String]?

    public var count: Int { labels.count }

    /// `values.count` must be `labels.count × sampleShape.count` and every label must be in
    /// `0..<classCount` (the loaders check both on user data before calling this).
    public init(name: String, sampleShape: Shape, values: [Float], labels: [Int32],
                classCount: Int, classNames: [String]?) {
        precondition(values.count == labels.count * sampleShape.count,
                     "\(values.count) values for \(labels.count) samples of \(sampleShape)")
        precondition(classNames == nil || classNames!.count == classCount,
                     "\(classNames?.count ?? 0) class names for \(classCount) classes")
        self.name = name
        self.sampleShape = sampleShape
        self.values = values
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    /// The samples at `indices` (in that order) as a new dataset with the same classes.
    public func subset(_ indices: [Int], name: String) -> LabeledDataset {
        let per = sampleShape.count, n = count
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "subset index out of 0..<\(n)")
        let newValues = [Float](unsafeUninitializedCapacity: indices.count * per) { out, made in
            values.withUnsafeBufferPointer { src in
                for (j, i) in indices.enumerated() {
                    (out.baseAddress! + j * per).initialize(from: src.baseAddress! + i * per,
                                                            count: per)
                }
            }
            made = indices.count * per
        }
        let newLabels = labels.withUnsafeBufferPointer { src in indices.map { src[$0] } }
        return LabeledDataset(name: name, sampleShape: sampleShape, values: newValues,
                              labels: newLabels, classCount: classCount, classNames: classNames)
    }

    /// Splits off `round(validationFraction × count)` randomly chosen samples as a validation
    /// set (as `torch.utils.data.random_split` does, without stratification). The choice is a
    /// Fisher–Yates shuffle seeded with `mixSeed(seed, 0x5B1)`, so it is the same on every run
    /// and every machine; each part keeps the original sample order, which makes the parts easy
    /// to compare with the source.
    ///
    /// `validationFraction` must leave both parts non-empty (`DataSpec` checks this).
    public func split(validationFraction: Double, seed: UInt64)
        -> (train: LabeledDataset, validation: LabeledDataset) {
        let validationCount = Int((validationFraction * Double(count)).rounded())
        precondition(validationCount > 0 && validationCount < count,
                     "a validation fraction of \(validationFraction) of \(count) samples "
                        + "leaves a part empty")
        var rng = RNG(seed: mixSeed(seed, 0x5B1))
        let permutation = Permutation.shuffled(count: count, rng: &rng)
        let validation = permutation[..<validationCount].sorted()
        let train = permutation[validationCount...].sorted()
        return (subset(train, name: "\(name) (training part)"),
                subset(validation, name: "\(name) (validation part)"))
    }
}
