import CNNLayers

/// One named parameter as the optimizer and the regularizer see it: its span of the executor's
/// flat arena and how it is treated.
///
/// Groups are per parameter (`c1.weight`, `c1.bias`), not per optimizer "param group" as in
/// PyTorch: the per-group settings are only whether it trains and whether it decays.
public struct ParameterGroup: Sendable, Equatable {
    /// The full parameter name, e.g. `layer1.0.conv1.weight`.
    public var name: String
    /// Its elements in the parameter (and gradient) arena.
    public var range: Range<Int>
    public var role: ParameterRole
    /// Frozen parameters are never changed by an optimizer step or a regularizer.
    public var frozen: Bool
    /// Whether weight decay (the optimizer's) and L1/L2 penalties apply.
    public var decay: Bool

    public init(name: String, range: Range<Int>, role: ParameterRole, frozen: Bool = false,
                decay: Bool) {
        self.name = name
        self.range = range
        self.role = role
        self.frozen = frozen
        self.decay = decay
    }

    /// Whether optimizers update it: not frozen, and learned (batch-norm running statistics
    /// live in the arena but are updated by the layer's forward pass, not by gradients).
    public var isUpdated: Bool { !frozen && role != .runningStatistic }
}
