/// A problem with a config file, said the way a compiler would: the file, the place
/// (`line:column` for syntax, a key path such as `model.layers[4] (conv2d "c3").kernel` for
/// meaning) and what is wrong, with what would be valid.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var place: String
    public var message: String

    public init(file: String? = nil, place: String, message: String) {
        self.file = file
        self.place = place
        self.message = message
    }

    public var description: String {
        ([file, place.isEmpty ? nil : place].compactMap { $0 } + [message]).joined(separator: ": ")
    }
}
