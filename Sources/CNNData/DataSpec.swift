import CNNConfig
import CNNCore

/// Loads a config's `"data"` section:
///
///     {"train": SOURCE, "test"?: SOURCE, "validation"?: 0.1 | SOURCE,
///      "normalize"?: "auto" | {"mean": [...], "std": [...]},
///      "augment"?: {"random_crop"?: 2, "horizontal_flip"?: true, "translate"?: 2},
///      "sequence"?: "rows" | "columns", "seed"?: 0}
///
/// (SOURCE as in `DataSource`). A fraction as `validation` holds out that share of the training
/// set, chosen with `data.seed` (default 0) so every run holds out the same samples; `"auto"`
/// normalization uses the statistics of what remains for training (never of validation or test
/// samples). Absent `normalize` means none. Augmentation applies to training batches only.
/// `sequence` presents every set's `[C, H, W]` images as `[T, F]` sequences (`SequenceView`),
/// after normalization and augmentation, which still work on the images.
///
/// Text: the training text's vocabulary encodes validation and test text sources, and a
/// fraction as `validation` holds out the *end* of the training text (`TextCorpus.split`): that
/// share of the characters, and that share of the `samples` windows drawn from it. Text
/// samples are symbol indices, so `normalize`, `augment` and `sequence` do not apply to them.
///
/// Config mistakes are `ConfigError`s with key paths (`data.validation: …`); problems with the
/// files themselves are `DataError`s naming the file.
public enum DataSpec {
    struct Config: Decodable {
        var train: JSONValue
        var test: JSONValue?
        var validation: JSONValue?
        var normalize: JSONValue?
        var augment: AugmentConfig?
        var seed: UInt64?
        var sequence: SequenceView?
        var transforms: TransformsConfig?
        var cache: CacheMode?
        var loaderThreads: Int?
        enum CodingKeys: String, CodingKey {
            case train, test, validation, normalize, augment, seed, sequence, transforms, cache
            case loaderThreads = "loader_threads"
        }
    }

    struct TransformsConfig: Decodable {
        var train: JSONValue?
        var eval: JSONValue?
    }

    enum CacheMode: String, ConfigEnum { case none, memory }

    struct AugmentConfig: Decodable {
        var randomCrop: Int?
        var horizontalFlip: Bool?
        var translate: Int?
        enum CodingKeys: String, CodingKey {
            case randomCrop = "random_crop", horizontalFlip = "horizontal_flip", translate
        }
    }

    struct NormalizeConfig: Decodable {
        var mean: [Float]
        var std: [Float]
    }

    /// `inputChannels`, the model input's channels, is what image sources decode to by default.
    public static func load(_ json: JSONValue, path: String = "data", file: String,
                            baseDirectory: String, inputChannels: Int? = nil) throws -> LoadedData {
        let c = try ConfigDecoder.decode(Config.self, from: json, path: path, file: file)
        func place(_ key: String) -> String { ConfigDecoder.keyPath(path, key: key) }
        func fail(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: file, place: place(key), message: message)
        }
        // Decode every source before loading any, so a typo is reported before a long load.
        let trainSource = try DataSource.decode(c.train, path: place("train"), file: file)
        let testSource = try c.test.map {
            try DataSource.decode($0, path: place("test"), file: file)
        }
        var fraction: Double?
        var validationSource: DataSource?
        switch c.validation {
        case nil: break
        case .int(let v)?: fraction = Double(v)
        case .double(let v)?: fraction = v
        case .object?: validationSource = try DataSource.decode(
            c.validation!, path: place("validation"), file: file)
        case let other?:
            throw fail("validation", "expected a fraction of the training set such as 0.1, or "
                       + "a data source object, got \(ConfigDecoder.describe(other))")
        }
        if let f = fraction, !(f > 0 && f < 1) {
            throw fail("validation", "a fraction of the training set must be in (0, 1), got \(f)")
        }
        if trainSource.textVocabulary != nil {
            return try loadDocuments(c, train: trainSource, validation: validationSource, fraction: fraction,
                                     test: testSource, path: path, file: file, baseDirectory: baseDirectory)
        }
        for (key, source) in [("validation", validationSource), ("test", testSource)] where source?.textVocabulary != nil {
            throw fail(key, "is labelled text but the training set is not; they must be the same kind")
        }
        if trainSource.isImages {
            return try loadImages(c, train: trainSource, validation: validationSource, fraction: fraction,
                                  test: testSource, path: path, file: file, baseDirectory: baseDirectory,
                                  inputChannels: inputChannels)
        }
        for (key, given) in [("transforms", c.transforms != nil), ("cache", c.cache != nil),
                             ("loader_threads", c.loaderThreads != nil)] where given {
            throw fail(key, "applies to image_folder and image_list data; for these samples use "
                       + "\"normalize\" and \"augment\"")
        }

        var train: LabeledDataset
        var validation: LabeledDataset?
        if let f = fraction, case .text(let text) = trainSource {
            try checkHeldOut(f, of: text.samples, "text windows", path: path, file: file)
            let corpus = try TextCorpus.load(DataSource.resolve(text.file,
                                                                against: baseDirectory))
            (train, validation) = try corpus.split(
                validationFraction: f, samples: text.samples, length: text.sequenceLength,
                seed: text.seed ?? 0, name: "text train")
        } else {
            train = try trainSource.load(role: "train", baseDirectory: baseDirectory)
            if let f = fraction {
                try checkHeldOut(f, of: train.count, "training samples", path: path, file: file)
                (train, validation) = train.split(validationFraction: f, seed: c.seed ?? 0)
            } else if let source = validationSource {
                validation = try source.load(role: "validation", baseDirectory: baseDirectory,
                                             vocabulary: train.vocabulary)
            }
        }
        var test = try testSource?.load(role: "test", baseDirectory: baseDirectory,
                                        vocabulary: train.vocabulary)
        try checkAgainstTraining(train, [("validation", validation), ("test", test)], path: path, file: file)
        if let view = c.sequence {
            guard train.sampleShape.rank == 3 else {
                throw fail("sequence", "a sequence view needs image samples [C, H, W]; the "
                           + "training samples are \(train.sampleShape)")
            }
            train = train.viewed(as: view)
            validation = validation?.viewed(as: view)
            test = test?.viewed(as: view)
        }
        return LoadedData(
            train: train, validation: validation, test: test,
            normalization: try normalization(c.normalize, train: train, path: place("normalize"),
                                             file: file),
            augmentation: try augmentation(c.augment, shape: train.sampleShape,
                                           path: place("augment"), file: file))
    }

    /// A validation fraction `f` of `count` training items must leave both parts at least one.
    static func checkHeldOut(_ f: Double, of count: Int, _ items: String, path: String, file: String) throws {
        let held = Int((f * Double(count)).rounded())
        guard held > 0 && held < count else {
            throw ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: "validation"),
                              message: "\(f) of \(count) \(items) is \(held) \(items.split(separator: " ").last!); both the "
                                + "validation and the training "
                                + "part need at least 1")
        }
    }

    /// Validation and test sets must be of the training set's kind and sample shape, with
    /// classes within its classes.
    static func checkAgainstTraining(_ train: LabeledDataset, _ sets: [(String, LabeledDataset?)],
                                     path: String, file: String) throws {
        for (key, set) in sets {
            guard let set else { continue }
            func fail(_ message: String) -> ConfigError {
                ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key), message: message)
            }
            if (set.vocabulary == nil) != (train.vocabulary == nil) {
                throw fail(train.vocabulary == nil
                           ? "is text but the training set is not; they must be the same kind"
                           : "the training set is text, so this must be a text source too")
            }
            if set.sampleShape != train.sampleShape {
                throw fail("samples are \(set.sampleShape) but the training samples are \(train.sampleShape)")
            }
            if set.classCount > train.classCount {
                throw fail("has labels up to \(set.classCount - 1) but the training set has \(train.classCount) classes (0...\(train.classCount - 1))")
            }
        }
    }

    static func normalization(_ json: JSONValue?, train: LabeledDataset, path: String,
                              file: String) throws -> Normalization? {
        if json != nil && train.holdsIndices {
            throw ConfigError(file: file, place: path, message: "text samples are symbol "
                              + "indices for an embedding layer; normalization does not apply")
        }
        switch json {
        case nil: return nil
        case .string("auto")?: return Normalization.compute(from: train)
        case .object?:
            let c = try ConfigDecoder.decode(NormalizeConfig.self, from: json!, path: path,
                                             file: file)
            let channels = Normalization.channels(of: train.sampleShape)
            for (key, values) in [("mean", c.mean), ("std", c.std)] where values.count != channels {
                throw ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key),
                                  message: "expected \(channels) value(s), one per channel of "
                                    + "the \(train.sampleShape) samples, got \(values.count)")
            }
            if let i = c.std.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
                throw ConfigError(file: file, place: "\(path).std[\(i)]",
                                  message: "must be a finite number > 0, got \(c.std[i])")
            }
            return Normalization(mean: c.mean, std: c.std)
        case let other?:
            throw ConfigError(file: file, place: path, message: "expected \"auto\" or "
                              + "{\"mean\": [...], \"std\": [...]}, got "
                              + ConfigDecoder.describe(other))
        }
    }

    static func augmentation(_ c: AugmentConfig?, shape: Shape, path: String,
                             file: String) throws -> Augmentation? {
        guard let c else { return nil }
        let a = Augmentation(cropPadding: c.randomCrop ?? 0,
                             horizontalFlip: c.horizontalFlip ?? false,
                             translate: c.translate ?? 0)
        if a == Augmentation() { return nil }
        guard shape.rank == 3 else {
            throw ConfigError(file: file, place: path, message: "augmentation needs image "
                              + "samples [C, H, W]; the training samples are \(shape)")
        }
        // A shift as large as the image could leave nothing of it.
        let limit = min(shape[1], shape[2]) - 1
        for (key, value) in [("random_crop", a.cropPadding), ("translate", a.translate)]
        where value < 0 || value > limit {
            throw ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key),
                              message: "must be in 0...\(limit) pixels for \(shape) samples, "
                                + "got \(value)")
        }
        return a
    }
}
