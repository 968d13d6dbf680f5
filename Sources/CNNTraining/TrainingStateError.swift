/// Saved optimizer or schedule state that cannot be restored (a checkpoint from another
/// optimizer, schedule or model): `optimizer state (adam): missing tensor "optimizer.exp_avg"`.
public struct TrainingStateError: Error, Sendable, CustomStringConvertible {
    /// What the state belongs to, e.g. `optimizer state (adam)` or `schedule state (plateau)`.
    public var component: String
    public var message: String

    public init(component: String, message: String) {
        self.component = component
        self.message = message
    }

    public var description: String { "\(component): \(message)" }
}
