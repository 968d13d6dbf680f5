/// An error said the way a compiler says one: where the problem is, then what was wrong and,
/// where it helps, what would be valid — `LOCATION: message`, or the bare message when there is
/// no location to name. The data, checkpoint and training-state errors share this form (and
/// `ConfigError` adds its key path between the two); each stays its own type, so a caller can
/// catch one kind and the type's name says what kind of file or state failed.
public protocol LocatedError: Error, Sendable, CustomStringConvertible {
    /// The file (or the piece of saved state) the problem is in, or nil where there is none.
    var location: String? { get }
    var message: String { get }
}

extension LocatedError {
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}
