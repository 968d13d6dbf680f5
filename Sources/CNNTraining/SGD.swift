/// Stochastic gradient descent with momentum, as `torch.optim.SGD` with dampening 0
/// (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
///
///     g ← g + λ·θ                          (weight decay, decaying groups only)
///     b ← μ·b + g                          (momentum; b = g on the first step)
///     g ← g + μ·b  (Nesterov)  or  g ← b
///     θ ← θ − η·g
///
/// Nesterov momentum follows Sutskever et al. 2013 in PyTorch's reformulation.
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var stepCount = 0
    private let state: OptimizerState

    /// `nesterov` needs `momentum > 0` (checked by `OptimizerSpec`; PyTorch raises too).
    /// `parameterCount` (the arena size) allocates the state now instead of on the first step.
    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0,
                parameterCount: Int? = nil) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        state = OptimizerState(optimizer: "sgd", names: momentum != 0 ? ["momentum_buffer"] : [],
                               count: parameterCount)
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                     groups: [ParameterGroup], lr: Float) {
        state.prepare(for: groups)
        stepCount += 1
        let mu = momentum
        for group in groups where group.isUpdated {
            let wd = group.decay ? weightDecay : 0
            if mu == 0 {
                for i in group.range { p[i] -= lr * (g[i] + wd * p[i]) }
                continue
            }
            // With dampening 0, PyTorch's first step (b = g) equals μ·0 + g, so the zeroed
            // buffer needs no special case.
            let b = state.buffers[0]
            if nesterov {
                for i in group.range {
                    let d = g[i] + wd * p[i]
                    b[i] = mu * b[i] + d
                    p[i] -= lr * (d + mu * b[i])
                }
            } else {
                for i in group.range {
                    b[i] = mu * b[i] + (g[i] + wd * p[i])
                    p[i] -= lr * b[i]
                }
            }
        }
    }

    public func stateTensors() -> [(name: String, values: [Float])] { state.tensors() }

    public func restore(_ tensors: [String: [Float]]) throws { try state.restore(tensors) }
}
