/// Where a config section sits (file and key path, e.g. `train.optimizer`), captured
/// while decoding so that checks made after decoding still report the key they are about:
/// `run.json: train.optimizer.momentum: must be in [0, 1), got 1.5`.
public struct ConfigPlace: Sendable, Equatable {
    public var file: String?
    public var path: String

    public init(file: String? = nil, path: String) {
        self.file = file
        self.path = path
    }

    /// The place of `decoder`'s value; `fallback` when the decoder is not a `ConfigDecoder`
    /// (e.g. a spec decoded by Foundation's JSONDecoder in a tool).
    public init(_ decoder: any Decoder, fallback: String) {
        self.init(file: decoder.configFile, path: decoder.configPath ?? fallback)
    }

    /// An error about `key` of this section (or the section itself when `key` is nil).
    public func error(_ message: String, key: String? = nil) -> ConfigError {
        ConfigError(file: file, place: key.map { ConfigDecoder.keyPath(path, key: $0) } ?? path,
                    message: message)
    }

    /// Throws an error about `key` unless `ok` (range checks made after decoding).
    public func check(_ ok: Bool, _ key: String, _ message: String) throws {
        if !ok { throw error(message, key: key) }
    }
}
