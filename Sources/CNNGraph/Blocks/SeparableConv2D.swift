import CNNConfig
import CNNLayers

/// Depthwise-separable convolution (Chollet 2017, "Xception"; Keras SeparableConv2D): a
/// depthwise k×k convolution (groups = channels, `depth_multiplier` filters per channel, no
/// bias) then a pointwise 1x1 convolution to `filters` (bias by default, as Keras).
/// Nodes: `depthwise`, `pointwise`.
enum SeparableConv2D: Block {
    static let type = "separable_conv2d"
    static let summary = "depthwise k×k convolution followed by a pointwise 1x1 convolution"

    struct Config: Decodable {
        var filters: Int
        var kernel: JSONValue
        var stride: JSONValue?
        var padding: JSONValue?
        var padding_mode: JSONValue?
        var dilation: JSONValue?
        var depth_multiplier: Int?
        var bias: Bool?
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let c = try entry.decode(Config.self, file: builder.file)
        let channels = builder.shape(of: input).dims.first ?? 0
        let multiplier = c.depth_multiplier ?? 1
        guard multiplier >= 1 else {
            throw entry.error("must be ≥ 1", key: "depth_multiplier", file: builder.file)
        }
        var depthwise = JSONObject([("filters", .int(channels * multiplier)), ("kernel", c.kernel),
                                    ("groups", .int(channels)), ("bias", false)])
        for (key, value) in [("stride", c.stride), ("padding", c.padding), ("padding_mode", c.padding_mode),
                             ("dilation", c.dilation)] {
            if let value { depthwise[key] = value }
        }
        let prefix = entry.name + "."
        let d = try builder.addLayer(type: "conv2d", name: prefix + "depthwise", config: .object(depthwise),
                                     inputs: [input], place: entry.path)
        let pointwise = JSONObject([("filters", .int(c.filters)), ("kernel", 1), ("bias", .bool(c.bias ?? true))])
        return try builder.addLayer(type: "conv2d", name: prefix + "pointwise", config: .object(pointwise),
                                    inputs: [d], place: entry.path)
    }
}
