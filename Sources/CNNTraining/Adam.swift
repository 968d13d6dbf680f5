import Foundation

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam` and
/// `torch.optim.AdamW` with amsgrad off
/// (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html, …/torch.optim.AdamW.html):
///
///     θ ← θ·(1 − η·λ)                      (AdamW: decoupled decay, decaying groups only)
///     g ← g + λ·θ                          (Adam: L2 decay, decaying groups only)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The bias corrections are computed in Double from the step count, as PyTorch does in Python.
/// AdamW is this class with `decoupled: true`; the two differ only in where λ enters.
public final class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    /// AdamW's decoupled weight decay instead of Adam's L2 term in the gradient.
    public let decoupled: Bool
    public var stepCount = 0
    private let state: OptimizerState

    /// `parameterCount` (the arena size) allocates the state now instead of on the first step.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false, parameterCount: Int? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        state = OptimizerState(optimizer: decoupled ? "adamw" : "adam",
                               names: ["exp_avg", "exp_avg_sq"], squares: ["exp_avg_sq"], count: parameterCount)
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                     groups: [ParameterGroup], lr: Float) {
        state.prepare(for: groups)
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let m = state.buffers[0], v = state.buffers[1]
        let b1 = beta1, b2 = beta2, eps = eps
        for group in groups where group.isUpdated {
            let wd = group.decay ? weightDecay : 0
            let shrink = decoupled ? 1 - lr * wd : 1
            let l2 = decoupled ? 0 : wd
            for i in group.range {
                let gi = g[i] + l2 * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let denominator = v[i].squareRoot() / correction2 + eps
                p[i] = p[i] * shrink - stepSize * (m[i] / denominator)
            }
        }
    }

    public func stateTensors() -> [(name: String, values: [Float])] { state.tensors() }

    public func restore(_ tensors: [String: [Float]]) throws { try state.restore(tensors) }
}
