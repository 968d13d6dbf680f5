import CNNConfig
import CNNLayers

/// A composite block: expands into primitive nodes (and nested blocks) through the builder,
/// which gives it shapes as it goes. One file per block type; one line in `BlockRegistry.all`.
protocol Block {
    static var type: String { get }
    static var summary: String { get }
    /// Adds the block's nodes after `input` and returns the node that is its output.
    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int
}

enum BlockRegistry {
    static let all: [any Block.Type] = [
        Sequential.self, Repeat.self, Residual.self, Inception.self, SeparableConv2D.self,
        SqueezeExcitation.self, MBConv.self, FusedMBConv.self,
    ]

    static func block(for type: String) -> (any Block.Type)? { all.first { $0.type == type } }
}

/// What a block sees of its entry: its keys (without `type`, `name`, `inputs`, `activation`),
/// its full name, and the key path for errors.
struct BlockEntry {
    var config: JSONObject
    let name: String
    let path: String

    /// Removes and returns a list of entries (`body`, `layers`, a branch) for the builder; each
    /// comes with its own key path.
    mutating func takeEntries(_ key: String, required: Bool = true, file: String?) throws -> [(JSONValue, String)]? {
        guard let value = config[key] else {
            if required { throw ConfigError(file: file, place: path, message: "missing required key \"\(key)\"") }
            return nil
        }
        config[key] = nil
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
        try ConfigDecoder.decode(type, from: .object(config), path: path, file: file)
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
        var conv: JSONObject = JSONObject([("filters", .int(filters)), ("kernel", .int(kernel)),
                                           ("stride", .int(stride)), ("padding", .int((kernel - 1) / 2))])
        if groups != 1 { conv["groups"] = .int(groups) }
        if norm { conv["bias"] = .bool(false) }
        var out = try addLayer(type: "conv2d", name: names.conv, config: .object(conv), inputs: [input], place: place)
        if norm {
            let bn = eps.map { JSONObject([("eps", .double($0))]) } ?? JSONObject()
            out = try addLayer(type: "batchnorm", name: names.bn, config: .object(bn), inputs: [out], place: place)
        }
        if let activation {
            out = try addLayer(type: activation, name: prefix + "act", config: .object(JSONObject()), inputs: [out], place: place)
        }
        return out
    }
}
