import Foundation

/// The learning rate for every iteration of a run, from a `ScheduleSpec`.
///
/// Epochs and iterations are 0-based; `t = epoch·I + iteration` counts iterations (I per epoch).
/// With W warmup epochs the rate first rises linearly per iteration, as PyTorch's `LinearLR`
/// stepped per batch: `lr = base·(s + (1 − s)·t/(W·I))` for `t < W·I` (s =
/// `warmup_start_factor`, 0.1 by default, so the first step uses a tenth of the rate). The
/// main schedule then starts at epoch `e = epoch − W`, as in PyTorch's
/// `SequentialLR([LinearLR, main], milestones: [W])`, so milestones count from the end of warmup:
///
/// - constant: `base`
/// - step (`StepLR`): `base·γ^⌊e/step_size⌋`
/// - multistep (`MultiStepLR`): `base·γ^(number of milestones ≤ e)`
/// - exponential (`ExponentialLR`): `base·γ^e`
/// - cosine (`CosineAnnealingLR`, closed form, per iteration over the T = (E − W)·I iterations
///   after warmup, E = total epochs): `min_lr + (base − min_lr)·(1 + cos(π·t′/T))/2`, t′ = t − W·I
/// - plateau (`ReduceLROnPlateau`): `base` times `factor` for every time `endEpoch` saw more
///   than `patience` epochs without a relative improvement of `threshold` (then `cooldown`
///   epochs are not counted), never below `min_lr`. Plateau counts every epoch, warmup included.
///
/// https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
public final class LRSchedule {
    public let spec: ScheduleSpec
    private let warmupEpochs: Int
    private let warmupStart: Double
    private let gamma: Double
    private let minLR: Double
    private let minimize: Bool
    private let factor: Double
    private let patience: Int
    private let threshold: Double
    private let cooldown: Int
    /// Plateau bookkeeping, as `ReduceLROnPlateau`'s `best`, `num_bad_epochs`,
    /// `cooldown_counter`, with the reductions so far as one factor on the base rate.
    private var best: Double
    private var badEpochs = 0
    private var cooldownCounter = 0
    private var scale = 1.0

    /// A schedule from `spec` (nil: constant).
    public init(_ spec: ScheduleSpec? = nil) {
        let spec = spec ?? .constant
        self.spec = spec
        warmupEpochs = spec.warmupEpochs ?? 0
        warmupStart = spec.warmupStartFactor ?? 0.1
        gamma = spec.gamma ?? 0.1
        minLR = spec.minLR ?? 0
        minimize = (spec.mode ?? .min) == .min
        factor = spec.factor ?? 0.1
        patience = spec.patience ?? 10
        threshold = spec.threshold ?? 1e-4
        cooldown = spec.cooldown ?? 0
        best = minimize ? .infinity : -.infinity
    }

    public func lr(base: Float, epoch: Int, iteration: Int, iterationsPerEpoch: Int,
                   totalEpochs: Int) -> Float {
        let perEpoch = max(iterationsPerEpoch, 1)
        let t = epoch * perEpoch + iteration
        let warmupIterations = warmupEpochs * perEpoch
        let e = max(epoch - warmupEpochs, 0)
        let b = Double(base)
        var rate: Double
        switch spec.type {
        case .constant:
            rate = b
        case .step:
            rate = b * pow(gamma, Double(e / max(spec.stepSize ?? 1, 1)))
        case .multistep:
            rate = b * pow(gamma, Double((spec.milestones ?? []).filter { $0 <= e }.count))
        case .exponential:
            rate = b * pow(gamma, Double(e))
        case .cosine:
            let total = Double(max(totalEpochs - warmupEpochs, 1) * perEpoch)
            let progress = min(Double(max(t - warmupIterations, 0)) / total, 1)
            rate = minLR + (b - minLR) * (1 + cos(Double.pi * progress)) / 2
        case .plateau:
            // ReduceLROnPlateau keeps max(lr·factor, min_lr) and skips a "reduction" that would
            // raise the rate, so a base below min_lr stays as it is.
            rate = max(b * scale, min(minLR, b))
        }
        if t < warmupIterations {
            rate *= warmupStart + (1 - warmupStart) * Double(t) / Double(warmupIterations)
        }
        return Float(rate)
    }

    /// Ends an epoch with the monitored metric; only the plateau schedule uses it. NaN never
    /// counts as an improvement (as in PyTorch, where every comparison with NaN is false).
    public func endEpoch(metric: Double) {
        guard spec.type == .plateau else { return }
        let improved = minimize ? metric < best * (1 - threshold) : metric > best * (1 + threshold)
        if improved {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEpochs = 0
        }
        if badEpochs > patience {
            scale *= factor
            cooldownCounter = cooldown
            badEpochs = 0
        }
    }

    /// What a checkpoint must keep (empty unless plateau). All values are finite, so the state
    /// survives JSON: `best` is absent until a metric improved on ±∞.
    public var state: [String: Double] {
        guard spec.type == .plateau else { return [:] }
        var s = ["plateau.bad_epochs": Double(badEpochs),
                 "plateau.cooldown_counter": Double(cooldownCounter), "plateau.scale": scale]
        if best.isFinite { s["plateau.best"] = best }
        return s
    }

    /// Restores `state`. Throws `TrainingStateError` when a plateau entry is missing or invalid.
    public func restore(_ state: [String: Double]) throws {
        guard spec.type == .plateau else { return }
        func value(_ key: String, _ valid: (Double) -> Bool) throws -> Double {
            guard let v = state[key], valid(v) else {
                throw TrainingStateError(
                    component: "schedule state (plateau)",
                    message: state[key] == nil ? "missing \"\(key)\" (was the run saved with "
                        + "another schedule?)" : "invalid \"\(key)\": \(state[key]!)")
            }
            return v
        }
        let counter = { (v: Double) in v >= 0 && v == v.rounded() && v < 1e9 }
        badEpochs = Int(try value("plateau.bad_epochs", counter))
        cooldownCounter = Int(try value("plateau.cooldown_counter", counter))
        scale = try value("plateau.scale") { $0 > 0 && $0 <= 1 }
        best = state["plateau.best"] ?? (minimize ? .infinity : -.infinity)
    }
}
