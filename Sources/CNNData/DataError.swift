import CNNCore

/// A problem with a data file (missing, truncated, malformed, labels out of range), said the way
/// `ConfigError` says config problems: `FILE: message`, where the message names what was found
/// and what would be valid. Config mistakes in the `"data"` section are `ConfigError`s instead.
public struct DataError: LocatedError {
    public var file: String?
    public var message: String

    public var location: String? { file }

    public init(file: String?, message: String) {
        self.file = file
        self.message = message
    }
}
