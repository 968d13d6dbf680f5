import CNNConfig

/// The `train.schedule` section: how the learning rate moves from the optimizer's `lr`.
///
///     {"type": "cosine", "min_lr": 1e-5, "warmup_epochs": 2}
///     {"type": "multistep", "milestones": [30, 60], "gamma": 0.1}
///     {"type": "plateau", "patience": 3, "factor": 0.5, "mode": "min"}
///
/// Keys per type, with PyTorch's defaults: `step` step_size (required), gamma 0.1; `multistep`
/// milestones (required, increasing), gamma 0.1; `exponential` gamma (required); `cosine`
/// min_lr 0; `plateau` mode min, factor 0.1, patience 10, threshold 1e-4 (relative),
/// cooldown 0, min_lr 0. Every type accepts warmup_epochs (0) and warmup_start_factor (0.1).
/// `LRSchedule` documents the formulas.
public struct ScheduleSpec: Decodable, Sendable {
    public enum Kind: String, ConfigEnum, Sendable {
        case constant, step, multistep, exponential, cosine, plateau
    }
    /// Whether a larger plateau metric is better (accuracy) or a smaller one (loss).
    public enum Mode: String, ConfigEnum, Sendable { case min, max }

    public var type: Kind
    public var stepSize: Int?
    public var gamma: Double?
    public var milestones: [Int]?
    public var minLR: Double?
    public var warmupEpochs: Int?
    public var warmupStartFactor: Double?
    public var patience: Int?
    public var factor: Double?
    public var threshold: Double?
    public var mode: Mode?
    public var cooldown: Int?
    /// Where the section is, for the errors of `validate`.
    public var place: ConfigPlace

    enum CodingKeys: String, CodingKey {
        case type, stepSize = "step_size", gamma, milestones, minLR = "min_lr"
        case warmupEpochs = "warmup_epochs", warmupStartFactor = "warmup_start_factor"
        case patience, factor, threshold, mode, cooldown
    }

    /// No schedule: the base learning rate throughout.
    public static let constant = ScheduleSpec(type: .constant)

    public init(type: Kind, stepSize: Int? = nil, gamma: Double? = nil, milestones: [Int]? = nil,
                minLR: Double? = nil, warmupEpochs: Int? = nil, warmupStartFactor: Double? = nil,
                patience: Int? = nil, factor: Double? = nil, threshold: Double? = nil,
                mode: Mode? = nil, cooldown: Int? = nil,
                place: ConfigPlace = ConfigPlace(path: "train.schedule")) {
        self.type = type
        self.stepSize = stepSize
        self.gamma = gamma
        self.milestones = milestones
        self.minLR = minLR
        self.warmupEpochs = warmupEpochs
        self.warmupStartFactor = warmupStartFactor
        self.patience = patience
        self.factor = factor
        self.threshold = threshold
        self.mode = mode
        self.cooldown = cooldown
        self.place = place
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(type: try c.decode(Kind.self, forKey: .type),
                  stepSize: try c.decodeIfPresent(Int.self, forKey: .stepSize),
                  gamma: try c.decodeIfPresent(Double.self, forKey: .gamma),
                  milestones: try c.decodeIfPresent([Int].self, forKey: .milestones),
                  minLR: try c.decodeIfPresent(Double.self, forKey: .minLR),
                  warmupEpochs: try c.decodeIfPresent(Int.self, forKey: .warmupEpochs),
                  warmupStartFactor: try c.decodeIfPresent(Double.self, forKey: .warmupStartFactor),
                  patience: try c.decodeIfPresent(Int.self, forKey: .patience),
                  factor: try c.decodeIfPresent(Double.self, forKey: .factor),
                  threshold: try c.decodeIfPresent(Double.self, forKey: .threshold),
                  mode: try c.decodeIfPresent(Mode.self, forKey: .mode),
                  cooldown: try c.decodeIfPresent(Int.self, forKey: .cooldown),
                  place: ConfigPlace(decoder, fallback: "train.schedule"))
        try validate()
    }

    /// Checks ranges, required keys and which keys the type accepts; throws `ConfigError`.
    public func validate() throws {
        let check = place.check
        func only(_ key: String, _ value: Any?, _ kinds: [Kind]) throws {
            try check(value == nil || kinds.contains(type), key,
                      "applies only to the \(kinds.map(\.rawValue).joined(separator: ", ")) "
                        + "schedule\(kinds.count > 1 ? "s" : ""), not to \"\(type.rawValue)\"")
        }
        func required(_ key: String, _ value: Any?) throws {
            if value == nil {
                throw place.error("a \(type.rawValue) schedule needs \"\(key)\"")
            }
        }
        try only("step_size", stepSize, [.step])
        try only("gamma", gamma, [.step, .multistep, .exponential])
        try only("milestones", milestones, [.multistep])
        try only("min_lr", minLR, [.cosine, .plateau])
        for (key, value) in [("patience", patience as Any?), ("factor", factor),
                             ("threshold", threshold), ("mode", mode), ("cooldown", cooldown)] {
            try only(key, value, [.plateau])
        }
        if type == .step { try required("step_size", stepSize) }
        if type == .multistep { try required("milestones", milestones) }
        if type == .exponential { try required("gamma", gamma) }
        if let s = stepSize { try check(s >= 1, "step_size", "must be ≥ 1, got \(s)") }
        if let g = gamma { try check(g > 0 && g <= 1, "gamma", "must be in (0, 1], got \(g)") }
        if let m = milestones {
            try check(!m.isEmpty, "milestones", "must list at least one epoch")
            for (i, epoch) in m.enumerated() {
                try check(epoch >= 1 && (i == 0 || epoch > m[i - 1]), "milestones[\(i)]",
                          "milestones must be increasing epochs ≥ 1, got \(m)")
            }
        }
        if let v = minLR { try check(v >= 0 && v.isFinite, "min_lr", "must be ≥ 0, got \(v)") }
        if let w = warmupEpochs { try check(w >= 0, "warmup_epochs", "must be ≥ 0, got \(w)") }
        if let s = warmupStartFactor {
            try check(s > 0 && s <= 1, "warmup_start_factor", "must be in (0, 1], got \(s)")
        }
        if let p = patience { try check(p >= 0, "patience", "must be ≥ 0, got \(p)") }
        if let f = factor { try check(f > 0 && f < 1, "factor", "must be in (0, 1), got \(f)") }
        if let t = threshold {
            try check(t >= 0 && t < 1, "threshold", "must be in [0, 1), got \(t)")
        }
        if let c = cooldown { try check(c >= 0, "cooldown", "must be ≥ 0, got \(c)") }
    }

    /// Checks the schedule against the run length: warmup must end before the last epoch.
    public func validate(totalEpochs: Int) throws {
        let w = warmupEpochs ?? 0
        if w > 0 && w >= totalEpochs {
            throw place.error("\(w) warmup epochs leave none of the \(totalEpochs) training "
                              + "epochs for the schedule; use fewer", key: "warmup_epochs")
        }
    }
}
