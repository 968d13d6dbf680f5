/// RMSprop (Hinton, Coursera lecture 6e), as `torch.optim.RMSprop` with centered off
/// (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html):
///
///     g ← g + λ·θ                          (weight decay, decaying groups only)
///     v ← α·v + (1 − α)·g²
///     b ← μ·b + g / (√v + ε);  θ ← θ − η·b  (momentum μ > 0)
///     θ ← θ − η·g / (√v + ε)               (μ = 0)
///
/// ε is added outside the square root, as PyTorch does (TensorFlow adds it inside).
public final class RMSprop: Optimizer {
    public let alpha: Float
    public let eps: Float
    public let momentum: Float
    public let weightDecay: Float
    public var stepCount = 0
    private let state: OptimizerState

    /// `parameterCount` (the arena size) allocates the state now instead of on the first step.
    public init(alpha: Float = 0.99, eps: Float = 1e-8, momentum: Float = 0, weightDecay: Float = 0,
                parameterCount: Int? = nil) {
        self.alpha = alpha
        self.eps = eps
        self.momentum = momentum
        self.weightDecay = weightDecay
        let names = momentum != 0 ? ["square_avg", "momentum_buffer"] : ["square_avg"]
        state = OptimizerState(optimizer: "rmsprop", names: names, squares: ["square_avg"], count: parameterCount)
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                     groups: [ParameterGroup], lr: Float) {
        state.prepare(for: groups)
        stepCount += 1
        let a = alpha, eps = eps, mu = momentum
        let v = state.buffers[0]
        for group in groups where group.isUpdated {
            let wd = group.decay ? weightDecay : 0
            if mu == 0 {
                for i in group.range {
                    let gi = g[i] + wd * p[i]
                    v[i] = a * v[i] + (1 - a) * gi * gi
                    p[i] -= lr * (gi / (v[i].squareRoot() + eps))
                }
                continue
            }
            let b = state.buffers[1]
            for i in group.range {
                let gi = g[i] + wd * p[i]
                v[i] = a * v[i] + (1 - a) * gi * gi
                b[i] = mu * b[i] + gi / (v[i].squareRoot() + eps)
                p[i] -= lr * b[i]
            }
        }
    }

    public func stateTensors() -> [(name: String, values: [Float])] { state.tensors() }

    public func restore(_ tensors: [String: [Float]]) throws { try state.restore(tensors) }
}
