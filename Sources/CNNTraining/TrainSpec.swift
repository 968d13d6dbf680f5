import CNNConfig
import CNNCore

/// The `train` section of a config:
///
///     {"epochs": 10, "batch_size": 64, "seed": 1,
///      "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true},
///      "schedule": {"type": "cosine", "warmup_epochs": 1},
///      "loss": {"type": "cross_entropy", "label_smoothing": 0.1, "head_weights": [1, 0.3, 0.3]},
///      "regularization": {"l2": 5e-4}, "clip_grad_norm": 5.0, "accumulate": 1,
///      "early_stopping": {"monitor": "val_loss", "patience": 3},
///      "init_from": "runs/a/best.safetensors", "freeze": ["c1", "stage1.*"], "monitor": "val_accuracy",
///      "log_gradients": true, "sync_batchnorm": false}
///
/// (`init_from` may also be `{"file", "strict", "rename"}`: `InitFromSpec`; `log_gradients` also
/// `{"every_steps": N}`: `GradientLogSpec`).
public struct TrainSpec: Decodable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var seed: Int?
    public var threads: Int?
    public var optimizer: OptimizerSpec
    public var schedule: ScheduleSpec?
    public var loss: LossSpec?
    public var regularization: Regularization?
    public var clipGradNorm: Float?
    public var clipGradValue: Float?
    public var accumulate: Int?
    public var earlyStopping: EarlyStoppingSpec?
    public var initFrom: InitFromSpec?
    public var freeze: [String]?
    /// The metric that decides `best.safetensors` (default: validation accuracy, else test
    /// accuracy, else training loss).
    public var monitor: Metric?
    /// In a data-parallel run, batch-norm statistics over all processes' shares of the batch
    /// (PyTorch's `SyncBatchNorm`) instead of each process's own (the default, as DDP's).
    public var syncBatchNorm: Bool?
    public var logGradients: GradientLogSpec?
    /// The gradient log to keep, if any.
    public var gradientLog: GradientLogSpec? { logGradients?.enabled == true ? logGradients : nil }

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch_size", seed, threads, optimizer, schedule, loss, regularization
        case clipGradNorm = "clip_grad_norm", clipGradValue = "clip_grad_value", accumulate
        case earlyStopping = "early_stopping", initFrom = "init_from", freeze, monitor
        case logGradients = "log_gradients", syncBatchNorm = "sync_batchnorm"
    }

    public static func load(_ json: JSONValue?, file: String) throws -> TrainSpec {
        guard let json else {
            throw ConfigError(file: file, place: "", message: "missing \"train\" section (epochs, batch_size, optimizer)")
        }
        let spec = try ConfigDecoder.decode(TrainSpec.self, from: json, path: "train", file: file)
        func check(_ ok: Bool, _ key: String, _ message: String) throws {
            if !ok { throw ConfigError(file: file, place: "train.\(key)", message: message) }
        }
        for (key, value, range) in [("epochs", spec.epochs, Limits.epochs), ("batch_size", spec.batchSize, Limits.batch),
                                    ("threads", spec.threads ?? 1, Limits.threads), ("seed", spec.seed ?? 0, Limits.seed),
                                    ("accumulate", spec.accumulate ?? 1, Limits.batch),
                                    ("log_gradients.every_steps", spec.logGradients?.everySteps ?? 1, 1...1_000_000_000)] {
            if let problem = Limits.violation(value, range) { try check(false, key, problem) }
        }
        try check((spec.clipGradNorm ?? 1) > 0, "clip_grad_norm", "must be > 0")
        try check((spec.clipGradValue ?? 1) > 0, "clip_grad_value", "must be > 0")
        if let s = spec.loss?.labelSmoothing { try check((0..<1).contains(s), "loss.label_smoothing", "must be in [0, 1)") }
        if let w = spec.loss?.classWeights {
            try check(w.allSatisfy { $0.isFinite && $0 >= 0 } && w.contains { $0 > 0 }, "loss.class_weights",
                      "must be finite, ≥ 0 and not all 0")
            try check((spec.loss?.type ?? .crossEntropy) == .crossEntropy, "loss.class_weights",
                      "weigh the classes of the cross_entropy loss only")
        }
        if let p = spec.earlyStopping?.patience { try check(p >= 1, "early_stopping.patience", "must be ≥ 1") }
        return spec
    }
}

public struct LossSpec: Decodable, Sendable {
    public enum Kind: String, ConfigEnum, Sendable {
        case crossEntropy = "cross_entropy", binaryCrossEntropy = "binary_cross_entropy", mse
    }
    public var type: Kind?
    public var labelSmoothing: Float?
    /// One weight per model output (GoogLeNet: main 1, auxiliary heads 0.3).
    public var headWeights: [Float]?
    /// One weight per class for the cross-entropy (PyTorch's `weight`), e.g. against a dominant
    /// background class in segmentation.
    public var classWeights: [Float]?

    enum CodingKeys: String, CodingKey {
        case type, labelSmoothing = "label_smoothing", headWeights = "head_weights", classWeights = "class_weights"
    }
}

public struct EarlyStoppingSpec: Decodable, Sendable {
    public var monitor: Metric?
    public var patience: Int
    public var minDelta: Double?

    enum CodingKeys: String, CodingKey { case monitor, patience, minDelta = "min_delta" }
}

/// A per-epoch metric a run can monitor.
public enum Metric: String, ConfigEnum, Sendable {
    case valLoss = "val_loss", valAccuracy = "val_accuracy", testLoss = "test_loss"
    case testAccuracy = "test_accuracy", trainLoss = "train_loss", trainAccuracy = "train_accuracy"
    case valMeanIoU = "val_mean_iou", testMeanIoU = "test_mean_iou"

    /// Lower is better for losses.
    public var minimize: Bool { rawValue.hasSuffix("loss") }

    public func value(in r: EpochRecord) -> Double? {
        switch self {
        case .valLoss: r.valLoss
        case .valAccuracy: r.valAccuracy
        case .testLoss: r.testLoss
        case .testAccuracy: r.testAccuracy
        case .trainLoss: r.trainLoss
        case .trainAccuracy: r.trainAccuracy
        case .valMeanIoU: r.valMeanIoU
        case .testMeanIoU: r.testMeanIoU
        }
    }
}
