import CNNConfig
import CNNCore
import CNNLayers

/// A composite block: expands into primitive nodes (and nested blocks) through the builder,
/// which gives it shapes as it goes. One file per block type, whose `registration` is one line
/// in `BlockRegistry.all`.
protocol Block {
    static var registration: BlockRegistration { get }
}

/// How the registry knows a block type: its config name, a one-line description, its keys, an
/// example entry that builds (for `cnnctl layers`, the config reference and the registry-wide tests)
/// and its expansion, which adds the block's nodes after `input` and returns its output node.
public struct BlockRegistration: Sendable {
    public let type: String
    public let summary: String
    /// As `LayerRegistration.keys`, besides the keys every entry takes (`type`, `name`,
    /// `inputs`, `activation`).
    public let keys: [ConfigKey]
    public let example: BlockExample
    let expand: @Sendable (BlockEntry, Int, inout GraphBuilder) throws -> Int

    init(type: String, summary: String, keys: [ConfigKey] = [], example: BlockExample,
         expand: @escaping @Sendable (BlockEntry, Int, inout GraphBuilder) throws -> Int) {
        self.type = type
        self.summary = summary
        self.keys = keys
        self.example = example
        self.expand = expand
    }
}

/// A block entry (its keys without `type`) and the input shape it is built on.
public struct BlockExample: Sendable {
    public var config: JSONValue
    public var input: Shape

    public init(_ config: JSONValue, input: Shape) {
        self.config = config
        self.input = input
    }
}

enum BlockRegistry {
    static let all: [BlockRegistration] = [
        Sequential.registration, Repeat.registration, Residual.registration, Inception.registration,
        SeparableConv2D.registration, SqueezeExcitation.registration, MBConv.registration,
        FusedMBConv.registration, DenseBlock.registration, DenseTransition.registration,
    ]
}

/// What a block sees of its entry: its keys (without `type`, `name`, `inputs`, `activation`),
/// its full name, and the key path for errors.
struct BlockEntry {
    var config: JSONObject
    let name: String
    let path: String
    /// Receives the keys the block reads (the registry's key documentation test).
    var recorder: KeyRecorder?

    init(config: JSONObject, name: String, path: String, recorder: KeyRecorder? = nil) {
        self.config = config
        self.name = name
        self.path = path
        self.recorder = recorder
    }

    /// Removes and returns `key`'s value.
    mutating func take(_ key: String) -> JSONValue? {
        recorder?.record([key])
        defer { config[key] = nil }
        return config[key]
    }

    /// Removes and returns a list of entries (`body`, `layers`, a branch) for the builder; each
    /// comes with its own key path.
    mutating func takeEntries(_ key: String, required: Bool = true, file: String?) throws -> [(JSONValue, String)]? {
        guard let value = take(key) else {
            if required { throw ConfigError(file: file, place: path, message: "missing required key \"\(key)\"") }
            return nil
        }
        switch value {
        case .array(let items):
            return items.enumerated().map { ($1, "\(path).\(key)[\($0)]") }
        case .object:
            return [(value, "\(path).\(key)")]
        default:
            throw ConfigError(file: file, place: "\(path).\(key)",
                              message: "expected a layer object or a list of layers, got \(value.kindName)")
        }
    }

    func decode<T: Decodable>(_ type: T.Type, file: String?) throws -> T {
        try ConfigDecoder.checkIntegers(in: .object(config), LayerBuildContext.integerRange, path: path, file: file)
        return try ConfigDecoder.decode(type, from: .object(config), path: path, file: file, recorder: recorder)
    }

    func error(_ message: String, key: String? = nil, file: String?) -> ConfigError {
        ConfigError(file: file, place: key.map { "\(path).\($0)" } ?? path, message: message)
    }
}

extension GraphBuilder {
    /// Convolution → batch norm → activation (torchvision's Conv2dNormActivation / BasicConv2d),
    /// named `prefix + "conv"`, `"bn"`, `"act"`. The convolution has no bias when a norm follows.
    mutating func convNormAct(_ prefix: String, input: Int, filters: Int, kernel: Int, stride: Int = 1,
                              groups: Int = 1, norm: Bool = true, eps: Double? = nil,
                              activation: String?, place: String,
                              names: (conv: String, bn: String)? = nil) throws -> Int {
        let names = names ?? (prefix + "conv", prefix + "bn")
        let conv = Conv2D.Config(filters: filters, kernel: IntPair(kernel), stride: IntPair(stride),
                                 padding: .uniform((kernel - 1) / 2),
                                 groups: groups == 1 ? nil : groups, bias: norm ? false : nil)
        var out = try addLayer(Conv2D.self, conv, name: names.conv, inputs: [input], place: place)
        if norm {
            out = try addLayer(BatchNorm.self, BatchNorm.Config(eps: eps.map(Float.init)), name: names.bn,
                               inputs: [out], place: place)
        }
        if let activation {
            out = try addActivation(activation, name: prefix + "act", input: out, place: place)
        }
        return out
    }
}
