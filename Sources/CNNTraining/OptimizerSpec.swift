import CNNConfig

/// The `train.optimizer` section:
///
///     {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4}
///     {"type": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}
///
/// Defaults are PyTorch's: momentum 0, betas (0.9, 0.999), eps 1e-8, alpha 0.99, weight decay 0
/// except AdamW's 0.01. `lr` is the base learning rate the schedule scales. Keys that do not
/// apply to the type are errors rather than silently ignored.
public struct OptimizerSpec: Decodable, Sendable {
    public enum Kind: String, ConfigEnum, Sendable { case sgd, adam, adamw, rmsprop }

    public var type: Kind
    public var lr: Float
    public var momentum: Float?
    public var nesterov: Bool?
    public var betas: [Float]?
    public var eps: Float?
    public var weightDecay: Float?
    public var alpha: Float?
    /// Where the section is, for the errors of `validate`.
    public var place: ConfigPlace

    enum CodingKeys: String, CodingKey {
        case type, lr, momentum, nesterov, betas, eps, weightDecay = "weight_decay", alpha
    }

    public init(type: Kind, lr: Float, momentum: Float? = nil, nesterov: Bool? = nil,
                betas: [Float]? = nil, eps: Float? = nil, weightDecay: Float? = nil,
                alpha: Float? = nil, place: ConfigPlace = ConfigPlace(path: "train.optimizer")) {
        self.type = type
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.betas = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.alpha = alpha
        self.place = place
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(type: try c.decode(Kind.self, forKey: .type),
                  lr: try c.decode(Float.self, forKey: .lr),
                  momentum: try c.decodeIfPresent(Float.self, forKey: .momentum),
                  nesterov: try c.decodeIfPresent(Bool.self, forKey: .nesterov),
                  betas: try c.decodeIfPresent([Float].self, forKey: .betas),
                  eps: try c.decodeIfPresent(Float.self, forKey: .eps),
                  weightDecay: try c.decodeIfPresent(Float.self, forKey: .weightDecay),
                  alpha: try c.decodeIfPresent(Float.self, forKey: .alpha),
                  place: ConfigPlace(decoder, fallback: "train.optimizer"))
        try validate()
    }

    /// Checks ranges and which keys the type accepts; throws `ConfigError` at the key.
    public func validate() throws {
        let check = place.check
        func only(_ key: String, _ value: Any?, _ kinds: [Kind]) throws {
            try check(value == nil || kinds.contains(type), key,
                      "applies only to \(kinds.map(\.rawValue).joined(separator: " and ")), "
                        + "not to \"\(type.rawValue)\"")
        }
        try only("momentum", momentum, [.sgd, .rmsprop])
        try only("nesterov", nesterov, [.sgd])
        try only("betas", betas, [.adam, .adamw])
        try only("eps", eps, [.adam, .adamw, .rmsprop])
        try only("alpha", alpha, [.rmsprop])
        try check(lr > 0 && lr.isFinite, "lr", "must be a positive number, got \(lr)")
        if let m = momentum {
            try check((0..<1).contains(m), "momentum", "must be in [0, 1), got \(m)")
        }
        if nesterov == true {
            try check((momentum ?? 0) > 0, "nesterov",
                      "Nesterov momentum needs \"momentum\" > 0 (as in PyTorch)")
        }
        if let b = betas {
            try check(b.count == 2, "betas", "must be two numbers [beta1, beta2], got \(b.count)")
            for (i, beta) in b.enumerated() {
                try check((0..<1).contains(beta), "betas[\(i)]", "must be in [0, 1), got \(beta)")
            }
        }
        // PyTorch accepts eps = 0, but then a parameter whose gradients were all zero divides
        // 0 by 0.
        if let e = eps {
            try check(e > 0 && e.isFinite, "eps", "must be a positive number, got \(e)")
        }
        if let wd = weightDecay {
            try check(wd >= 0 && wd.isFinite, "weight_decay", "must be ≥ 0, got \(wd)")
        }
        if let a = alpha { try check((0..<1).contains(a), "alpha", "must be in [0, 1), got \(a)") }
    }

    /// A fresh optimizer (zeroed state) after `validate`. With `parameterCount` (the arena
    /// size) the state is allocated now, and `restore` rejects state of another size.
    public func make(parameterCount: Int? = nil) throws -> any Optimizer {
        try validate()
        switch type {
        case .sgd:
            return SGD(momentum: momentum ?? 0, nesterov: nesterov ?? false,
                       weightDecay: weightDecay ?? 0, parameterCount: parameterCount)
        case .adam, .adamw:
            let b = betas ?? [0.9, 0.999]
            return Adam(beta1: b[0], beta2: b[1], eps: eps ?? 1e-8,
                        weightDecay: weightDecay ?? (type == .adamw ? 0.01 : 0),
                        decoupled: type == .adamw, parameterCount: parameterCount)
        case .rmsprop:
            return RMSprop(alpha: alpha ?? 0.99, eps: eps ?? 1e-8, momentum: momentum ?? 0,
                           weightDecay: weightDecay ?? 0, parameterCount: parameterCount)
        }
    }
}
