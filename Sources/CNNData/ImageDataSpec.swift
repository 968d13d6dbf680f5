import CNNConfig
import CNNCore
import Foundation

/// The data section when the training data are image files:
///
///     {"train": IMAGE SOURCE, "validation"?: 0.1 | IMAGE SOURCE, "test"?: IMAGE SOURCE,
///      "transforms"?: {"train": [STEP, …], "eval": [STEP, …]},
///      "cache"?: "none" | "memory", "loader_threads"?: 1…64, "seed"?: 0}
///
/// The training set goes through the `train` steps, every other set (a validation part split
/// off the training set included) through the `eval` steps; a list left out is `ToTensor`
/// alone. `"auto"` normalization measures the training images as decoded (before any step).
/// With `"cache": "memory"` each set's images are decoded and run through their deterministic
/// leading steps once, at load, when all of them fit in half the available memory (a line says
/// whether they did). `loader_threads` prepare batches while the model trains; by default one
/// per core but one, at least 1 and at most 4, so that decoding does not take the cores the
/// training step runs on.
extension DataSpec {
    static func loadImages(_ c: Config, train trainSource: DataSource, validation validationSource: DataSource?,
                           fraction: Double?, test testSource: DataSource?, path: String, file: String,
                           baseDirectory: String, inputChannels: Int?) throws -> LoadedData {
        func place(_ key: String) -> String { ConfigDecoder.keyPath(path, key: key) }
        func fail(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: file, place: place(key), message: message)
        }
        for (key, given) in [("normalize", c.normalize != nil), ("augment", c.augment != nil)] where given {
            throw fail(key, "for image data this is a step of \"transforms\", e.g. \"transforms\": "
                       + "{\"train\": [{\"horizontal_flip\": 0.5}, {\"normalize\": \"imagenet\"}], "
                       + "\"eval\": [{\"normalize\": \"imagenet\"}]}")
        }
        if c.sequence != nil {
            throw fail("sequence", "sequence views apply to IDX and CIFAR-10 data, not image files")
        }
        for (key, source) in [("validation", validationSource), ("test", testSource)] where source?.isImages == false {
            throw fail(key, "the training data are image files, so this must be an image_folder or "
                       + "image_list source too")
        }
        if let t = c.loaderThreads, !(1...64).contains(t) {
            throw fail("loader_threads", "must be 1...64, got \(t)")
        }
        let trainSpec = try c.transforms?.train.map {
            try TransformSpec.decode($0, path: place("transforms.train"), file: file)
        } ?? TransformSpec(steps: [], normalize: nil)
        let evalSpec = try c.transforms?.eval.map {
            try TransformSpec.decode($0, path: place("transforms.eval"), file: file)
        } ?? TransformSpec(steps: [], normalize: nil)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        var notices: [String] = []
        func load(_ source: DataSource, _ role: String) throws -> LabeledDataset {
            guard case .images(let config) = source else { preconditionFailure("not an image source") }
            let (set, lines) = try config.load(role: role, baseDirectory: baseDirectory,
                                               defaultChannels: inputChannels == 1 ? 1 : 3, threads: cores)
            notices += lines
            return set
        }
        var train = try load(trainSource, "train")
        var validation: LabeledDataset?
        if let f = fraction {
            try checkHeldOut(f, of: train.count, "training images", path: path, file: file)
            (train, validation) = train.split(validationFraction: f, seed: c.seed ?? 0)
        } else if let source = validationSource {
            validation = try load(source, "validation")
        }
        var test = try testSource.map { try load($0, "test") }
        let channels = train.images!.channels
        for (key, set) in [("validation", validation), ("test", test)] where set.map({ $0.images!.channels != channels }) ?? false {
            throw fail(key, "decodes to \(set!.images!.channels) channel(s) but the training images to "
                       + "\(channels); give both sources the same \"channels\"")
        }

        var statistics: Normalization?
        func resolve(_ spec: TransformSpec.NormalizeSpec?, _ key: String) throws -> Normalization? {
            switch spec {
            case nil: return nil
            case .auto:
                if statistics == nil { statistics = try Normalization.compute(fromImages: train.images!, threads: cores) }
                return statistics
            case .values(let n):
                guard n.mean.count == channels && n.std.count == channels else {
                    throw fail(key, "normalize needs \(channels) mean and std value(s), one per channel "
                               + "of the images, got \(n.mean.count) and \(n.std.count)")
                }
                if let i = n.std.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
                    throw fail(key, "normalize std[\(i)] must be a finite number > 0, got \(n.std[i])")
                }
                return n
            }
        }
        let trainPipeline = ImagePipeline(steps: trainSpec.steps,
                                          normalization: try resolve(trainSpec.normalize, "transforms.train"))
        let evalPipeline = ImagePipeline(steps: evalSpec.steps,
                                         normalization: try resolve(evalSpec.normalize, "transforms.eval"))
        train = try train.transformed(by: trainPipeline, role: "training")
        validation = try validation?.transformed(by: evalPipeline, role: "evaluation")
        test = try test?.transformed(by: evalPipeline, role: "evaluation")
        try checkAgainstTraining(train, [("validation", validation), ("test", test)], path: path, file: file)

        if c.cache == .memory {
            let sets = [train, validation, test].compactMap { $0 }
            let bytes = sets.reduce(0) { $0 + $1.images!.cacheBytes }
            let budget = (SystemMemory.availableBytes ?? Int.max) / 2
            if bytes <= budget {
                train = try train.cached(threads: cores)
                validation = try validation?.cached(threads: cores)
                test = try test?.cached(threads: cores)
                notices.append("cache: \(sets.reduce(0) { $0 + $1.count }) prepared images in memory "
                               + "(\(ByteCount(bytes)))")
            } else {
                notices.append("cache: the prepared images need \(ByteCount(bytes)), more than half the "
                               + "available memory (\(ByteCount(budget))); they are decoded every epoch")
            }
        }
        return LoadedData(train: train, validation: validation, test: test, normalization: nil,
                          augmentation: nil, loaderThreads: c.loaderThreads ?? max(1, min(4, cores - 1)),
                          notices: notices, evaluationPipeline: evalPipeline)
    }

    /// How new image files are read for a model trained on this data section (`cnnctl predict`):
    /// channels, pixel limit and the evaluation transforms, without reading the training set
    /// when `"auto"` normalization's `statistics` are given (a checkpoint keeps them); nil when
    /// the data are not image files.
    public struct ImageReading: Sendable {
        public let channels: Int
        public let maxPixels: Int
        /// Without normalization when `needsStatistics`.
        public var pipeline: ImagePipeline
        /// `"auto"` normalization without statistics: a checkpoint from before they were kept,
        /// whose caller must measure the training images (`load`'s `evaluationPipeline`).
        public let needsStatistics: Bool
        /// An image folder's sub-folder names, or an image list's `class_names`.
        public let classNames: [String]?
    }

    public static func imageReading(_ json: JSONValue, path: String = "data", file: String, baseDirectory: String,
                                    inputChannels: Int?, statistics: Normalization?) throws -> ImageReading? {
        let c = try ConfigDecoder.decode(Config.self, from: json, path: path, file: file)
        guard case .images(let source) = try DataSource.decode(c.train, path: ConfigDecoder.keyPath(path, key: "train"),
                                                               file: file) else { return nil }
        let spec = try c.transforms?.eval.map {
            try TransformSpec.decode($0, path: ConfigDecoder.keyPath(path, key: "transforms.eval"), file: file)
        } ?? TransformSpec(steps: [], normalize: nil)
        let normalization: Normalization? = switch spec.normalize {
        case nil: nil
        case .values(let n): n
        case .auto: statistics
        }
        let channels = source.channels ?? (inputChannels == 1 ? 1 : 3)
        if let n = normalization, n.mean.count != channels || n.std.count != channels {
            throw ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: "transforms.eval"),
                              message: "normalize has \(n.mean.count) mean and \(n.std.count) std value(s) for "
                                + "\(channels)-channel images")
        }
        return ImageReading(channels: channels,
                            maxPixels: source.maxPixels ?? ImageFile.defaultMaxPixels,
                            pipeline: ImagePipeline(steps: spec.steps, normalization: normalization),
                            needsStatistics: spec.normalize == .auto && statistics == nil,
                            classNames: try source.root.map {
                                let root = DataSource.resolve($0, against: baseDirectory)
                                return try ImageFolder.entries(of: root).filter { ImageFolder.isDirectory(root + "/" + $0) }
                            } ?? source.classNames)
    }
}

extension DataSpec.ImageReading {
    /// The image files at `paths` (a folder's images found as in a class folder) read as the
    /// config's evaluation sets are: a dataset of unlabelled (class 0) samples that must have the
    /// model's `inputShape`, and the files `skip` left out. A file that cannot be read is an
    /// error naming it unless `skip`.
    public func dataset(paths: [String], skip: Bool, threads: Int, classCount: Int,
                        inputShape: Shape) throws -> (dataset: LabeledDataset, skipped: [String]) {
        var files: [String] = []
        for path in paths { files += ImageFolder.isDirectory(path) ? try ImageFolder.images(under: path) : [path] }
        let read = ImageSet.readHeaders(files, channels: channels, maxPixels: maxPixels, skip: skip, threads: threads)
        if let failure = read.failed.first, !skip { throw failure.error }
        guard !read.kept.isEmpty else {
            throw DataError(file: paths.first, message: "holds no readable image")
        }
        let kept = read.kept.map { files[$0] }
        let images = ImageSet(files: kept, sizes: read.sizes, channels: channels, maxPixels: maxPixels,
                              pipeline: pipeline)
        let shape = try images.sampleShape(name: "evaluation")
        guard shape == inputShape else {
            throw DataError(file: kept[0], message: "becomes a \(shape) sample through the evaluation transforms, "
                            + "but the model takes \(inputShape)")
        }
        let dataset = LabeledDataset(name: "predict", sampleShape: shape, values: [],
                                     labels: [Int32](repeating: 0, count: kept.count), classCount: classCount,
                                     classNames: nil, images: images)
        return (dataset, read.failed.map(\.file))
    }
}
