import CNNConfig

/// L1/L2 penalties on the parameters (`train.regularization`):
///
///     {"l1": 1e-5, "l2": 5e-4, "exclude": ["fc.*"]}
///
/// penalty = λ₁·Σ|w| + λ₂·Σw², added to the loss; its gradient λ₁·sign(w) + 2λ₂·w (sign(0) = 0,
/// as `torch.sign`) is added to the parameter gradients. Both apply to the groups whose `decay`
/// is set, which `ParameterGroups.groups` decides: roles weight and embedding, minus the `exclude`
/// globs (see `NamePattern`; `"*.bias"`, `"stage1.*"`, a layer name). Biases and normalization
/// scales and shifts never decay, the common practice since Goyal et al. 2017 §5.1 (PyTorch's
/// own `weight_decay` decays every parameter). The optimizer's `weight_decay` uses the same
/// groups. Note λ₂ here is the loss coefficient: `l2: λ` with SGD equals PyTorch's
/// `weight_decay: 2λ`.
public struct Regularization: Decodable, Sendable {
    public var l1: Float
    public var l2: Float
    public var exclude: [String]
    /// Where the section is, for the errors about `exclude` patterns.
    public var place: ConfigPlace

    enum CodingKeys: String, CodingKey { case l1, l2, exclude }

    public init(l1: Float = 0, l2: Float = 0, exclude: [String] = [],
                place: ConfigPlace = ConfigPlace(path: "train.regularization")) {
        self.l1 = l1
        self.l2 = l2
        self.exclude = exclude
        self.place = place
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(l1: try c.decodeIfPresent(Float.self, forKey: .l1) ?? 0,
                  l2: try c.decodeIfPresent(Float.self, forKey: .l2) ?? 0,
                  exclude: try c.decodeIfPresent([String].self, forKey: .exclude) ?? [],
                  place: ConfigPlace(decoder, fallback: "train.regularization"))
        for (key, value) in [("l1", l1), ("l2", l2)] where !(value >= 0 && value.isFinite) {
            throw place.error("must be ≥ 0, got \(value)", key: key)
        }
    }

    /// Whether there is any penalty (the training loop skips both calls otherwise).
    public var isActive: Bool { l1 != 0 || l2 != 0 }

    /// λ₁·Σ|w| + λ₂·Σw² over the decaying, updated groups, accumulated in Double.
    public func penalty(parameters p: UnsafePointer<Float>, groups: [ParameterGroup]) -> Double {
        var absolute = 0.0, squares = 0.0
        for group in groups where group.decay && group.isUpdated {
            for i in group.range {
                let w = Double(p[i])
                absolute += abs(w)
                squares += w * w
            }
        }
        return Double(l1) * absolute + Double(l2) * squares
    }

    /// Adds λ₁·sign(w) + 2λ₂·w to the gradients of the decaying, updated groups.
    public func addGradient(parameters p: UnsafePointer<Float>,
                            gradients g: UnsafeMutablePointer<Float>, groups: [ParameterGroup]) {
        let a = l1, b = 2 * l2
        for group in groups where group.decay && group.isUpdated {
            for i in group.range {
                let w = p[i]
                let sign: Float = w > 0 ? 1 : (w < 0 ? -1 : 0)
                g[i] += a * sign + b * w
            }
        }
    }
}
