import CNNCore

/// Saved optimizer or schedule state that cannot be restored (a checkpoint from another
/// optimizer, schedule or model): `optimizer state (adam): missing tensor "optimizer.exp_avg"`.
public struct TrainingStateError: LocatedError {
    /// What the state belongs to, e.g. `optimizer state (adam)` or `schedule state (plateau)`.
    public var component: String
    public var message: String

    public var location: String? { component }
}
