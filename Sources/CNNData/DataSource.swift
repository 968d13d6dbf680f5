import CNNConfig
import CNNCore

/// One dataset in a config's `"data"` section (`train`, `validation` or `test`):
///
///     {"type": "fashion_mnist", "split": "train" | "test", "directory"?: "…"}
///     {"type": "idx", "images": "…", "labels": "…", "class_names"?: ["…", …]}
///     {"type": "cifar10", "files": ["…", …]}
///     {"type": "synthetic", "count": 1000, "classes": 10, "shape": [1, 28, 28],
///      "seed"?: 0, "noise"?: 0.5}
///     {"type": "text", "file": "…", "sequence_length": 64, "samples": 20000, "seed"?: 0}
///     {"type": "image_folder", "root": "…", …}, {"type": "image_list", "file": "…", …}
///     {"type": "segmentation_folder", "images": "…", "masks": "…", "classes": K, …}
///     {"type": "text_classification", "file": "…", "max_length": T, …}
///     {"type": "fortune_topics", "topics": ["…", …], "split": "train" | "test", "max_length": T, …}
///
/// (image sources in `ImageSourceConfig`, segmentation folders in `SegmentationFolder`, labelled
/// texts in `TextClassification` and `FortuneTopics`, which `DataSpec.loadDocuments` loads).
/// Relative paths resolve against the config file's directory; synthetic data and text windows
/// default to seed 0, synthetic noise to 0.5. A text source is `samples` windows of
/// `sequence_length` characters of a UTF-8 file (`TextCorpus`); as validation or test set it is
/// encoded with the training text's vocabulary.
enum DataSource {
    case fashionMNIST(FashionMNISTConfig)
    case idx(IDXConfig)
    case cifar10(CIFAR10Config)
    case synthetic(SyntheticConfig)
    case text(TextConfig)
    case images(ImageSourceConfig)
    case segmentation(SegmentationFolder.Config)
    case textClassification(TextClassification.Config)
    case fortuneTopics(FortuneTopics.Config)

    enum Kind: String, ConfigEnum {
        case fashionMNIST = "fashion_mnist", idx, cifar10, synthetic, text
        case imageFolder = "image_folder", imageList = "image_list"
        case segmentationFolder = "segmentation_folder"
        case textClassification = "text_classification", fortuneTopics = "fortune_topics"
    }

    var isImages: Bool { if case .images = self { true } else { false } }

    /// The vocabulary keys of a labelled-text source; nil for other sources.
    var textVocabulary: TextVocabularyConfig? {
        switch self {
        case .textClassification(let c): c.vocabulary
        case .fortuneTopics(let c): c.vocabulary
        default: nil
        }
    }

    /// A labelled-text source's texts, `classNames` (the training set's) fixing the classes.
    func documents(role: String, baseDirectory: String, classNames: [String]?) throws -> TextDocuments {
        func resolve(_ p: String) -> String { Self.resolve(p, against: baseDirectory) }
        switch self {
        case .textClassification(let c):
            return try TextClassification.load(resolve(c.file), format: c.format, classNames: classNames ?? c.classes,
                                               name: "text \(role)")
        case .fortuneTopics(let c):
            return try FortuneTopics.load(c, directory: c.directory.map(resolve) ?? FortuneTopics.defaultDirectory,
                                          name: "fortunes \(role)")
        default:
            preconditionFailure("not a labelled-text source")
        }
    }

    struct FashionMNISTConfig: Decodable {
        enum Split: String, ConfigEnum { case train, test }
        var split: Split
        var directory: String?
    }

    struct IDXConfig: Decodable {
        var images: String
        var labels: String
        var classNames: [String]?
        enum CodingKeys: String, CodingKey { case images, labels, classNames = "class_names" }
    }

    struct CIFAR10Config: Decodable {
        var files: [String]
    }

    struct SyntheticConfig: Decodable {
        var count: Int
        var classes: Int
        var shape: [Int]
        var seed: UInt64?
        var noise: Float?
    }

    struct TextConfig: Decodable {
        var file: String
        var sequenceLength: Int
        var samples: Int
        var seed: UInt64?
        enum CodingKeys: String, CodingKey {
            case file, sequenceLength = "sequence_length", samples, seed
        }
    }

    /// The largest synthetic or text dataset, in floats (the tensor size limit in the README).
    static let maxSyntheticValues = 1 << 31

    /// Decodes the source at `path` (e.g. `data.train`), checking values a loader cannot.
    static func decode(_ json: JSONValue, path: String, file: String) throws -> DataSource {
        guard case .object(let object) = json else {
            throw ConfigError(file: file, place: path, message: "expected a data source object "
                              + "with a \"type\", got \(ConfigDecoder.describe(json))")
        }
        guard let type = object["type"] else {
            let valid = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(file: file, place: path,
                              message: "missing required key \"type\"; valid types: \(valid)")
        }
        let kind = try ConfigDecoder.decode(Kind.self, from: type, path: path + ".type",
                                            file: file)
        func decode<T: Decodable>(_ t: T.Type) throws -> T {
            try ConfigDecoder.decode(t, from: json, path: path, file: file, extraKeys: ["type"])
        }
        func fail(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key),
                        message: message)
        }
        switch kind {
        case .fashionMNIST:
            return .fashionMNIST(try decode(FashionMNISTConfig.self))
        case .idx:
            let c = try decode(IDXConfig.self)
            if c.classNames?.isEmpty == true { throw fail("class_names", "must not be empty") }
            return .idx(c)
        case .cifar10:
            let c = try decode(CIFAR10Config.self)
            if c.files.isEmpty { throw fail("files", "must list at least one batch file") }
            return .cifar10(c)
        case .synthetic:
            let c = try decode(SyntheticConfig.self)
            if c.count < 1 { throw fail("count", "must be at least 1, got \(c.count)") }
            if c.classes < 1 { throw fail("classes", "must be at least 1, got \(c.classes)") }
            guard (1...3).contains(c.shape.count), c.shape.allSatisfy({ $0 >= 1 }) else {
                throw fail("shape", "must be 1 to 3 positive sizes such as [1, 28, 28], got "
                           + Shape(c.shape).description)
            }
            let total = Shape(c.shape + [c.count]).checkedCount ?? Int.max
            guard total <= maxSyntheticValues else {
                throw fail("count", "\(c.count) samples of \(Shape(c.shape)) are \(total) "
                           + "values; the limit is \(maxSyntheticValues)")
            }
            // One prototype image per class.
            let prototypes = Shape(c.shape + [c.classes]).checkedCount ?? Int.max
            guard prototypes <= maxSyntheticValues else {
                throw fail("classes", "\(c.classes) classes of \(Shape(c.shape)) prototypes are \(prototypes) "
                           + "values; the limit is \(maxSyntheticValues)")
            }
            if let noise = c.noise, !(noise >= 0 && noise.isFinite) {
                throw fail("noise", "must be a finite number ≥ 0, got \(noise)")
            }
            return .synthetic(c)
        case .text:
            let c = try decode(TextConfig.self)
            if c.sequenceLength < 1 {
                throw fail("sequence_length", "must be at least 1, got \(c.sequenceLength)")
            }
            if c.samples < 1 { throw fail("samples", "must be at least 1, got \(c.samples)") }
            let total = c.samples.multipliedReportingOverflow(by: c.sequenceLength)
            guard !total.overflow, total.partialValue <= maxSyntheticValues else {
                throw fail("samples", "\(c.samples) windows of \(c.sequenceLength) characters "
                           + "exceed the limit of \(maxSyntheticValues) values")
            }
            return .text(c)
        case .imageFolder, .imageList:
            let c = try decode(ImageSourceConfig.self)
            try c.validate(folder: kind == .imageFolder, path: path, file: file)
            return .images(c)
        case .segmentationFolder:
            let c = try decode(SegmentationFolder.Config.self)
            try c.validate(path: path, file: file)
            return .segmentation(c)
        case .textClassification:
            let c = try decode(TextClassification.Config.self)
            if c.classes?.isEmpty == true { throw fail("classes", "must not be empty") }
            try c.vocabulary.validate(path: path, file: file)
            return .textClassification(c)
        case .fortuneTopics:
            let c = try decode(FortuneTopics.Config.self)
            try c.validate(path: path, file: file)
            return .fortuneTopics(c)
        }
    }

    /// The synthetic sample stream, or text window stream, of each role.
    static func stream(role: String) -> UInt64 {
        role == "train" ? 0 : role == "validation" ? 1 : 2
    }

    /// Loads the source. `role` (train, validation, test) names the dataset and picks the
    /// synthetic sample (text window) stream, so synthetic sets share classes but not samples.
    /// A text source is encoded with `vocabulary` when given (the training text's).
    func load(role: String, baseDirectory: String,
              vocabulary: Vocabulary? = nil) throws -> LabeledDataset {
        func resolve(_ p: String) -> String { Self.resolve(p, against: baseDirectory) }
        switch self {
        case .fashionMNIST(let c):
            return try FashionMNIST.load(
                split: c.split.rawValue,
                directory: c.directory.map(resolve) ?? FashionMNIST.defaultDirectory)
        case .idx(let c):
            return try IDX.load(images: resolve(c.images), labels: resolve(c.labels),
                                name: "IDX \(role)", classNames: c.classNames)
        case .cifar10(let c):
            return try CIFAR10.load(files: c.files.map(resolve), name: "CIFAR-10 \(role)")
        case .synthetic(let c):
            // The images as floats and their prototypes (the sizes are checked at decoding).
            try SystemMemory.require(4 * Shape(c.shape).count * (c.count + c.classes),
                                     for: "\(c.count) synthetic samples of \(Shape(c.shape))", file: nil)
            return SyntheticImages.make(count: c.count, shape: Shape(c.shape),
                                        classes: c.classes, seed: c.seed ?? 0,
                                        noise: c.noise ?? 0.5, stream: Self.stream(role: role),
                                        name: "synthetic \(role)")
        case .text(let c):
            let corpus = try TextCorpus.load(resolve(c.file), vocabulary: vocabulary)
            return try corpus.windows(samples: c.samples, length: c.sequenceLength,
                                      seed: c.seed ?? 0, stream: Self.stream(role: role),
                                      name: "text \(role)")
        case .segmentation(let c):
            return try SegmentationFolder.load(c, images: resolve(c.images), masks: resolve(c.masks),
                                               name: "segmentation \(role)")
        case .images:
            preconditionFailure("image sources load through ImageSourceConfig.load")
        case .textClassification, .fortuneTopics:
            preconditionFailure("labelled texts load through DataSpec.loadDocuments")
        }
    }

    /// `path` made absolute against `baseDirectory` (the config file's directory) if relative.
    static func resolve(_ path: String, against baseDirectory: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return baseDirectory.hasSuffix("/") ? baseDirectory + path : baseDirectory + "/" + path
    }
}
