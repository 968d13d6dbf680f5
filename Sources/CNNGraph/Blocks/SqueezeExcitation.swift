import CNNConfig
import CNNLayers

/// Squeeze-and-excitation (Hu et al. 2018): s = gate(W₂ · act(W₁ · avgpool(x) + b₁) + b₂),
/// y = x ⊙ s broadcast over H×W. The two fully connected layers are 1x1 convolutions with bias
/// (`fc1`, `fc2`, as torchvision's SqueezeExcitation). Width: `squeeze` channels, or
/// `channels / reduction` (default reduction 16, the paper's).
enum SqueezeExcitation: Block {
    static let type = "squeeze_excitation"
    static let registration = BlockRegistration(
        type: type, summary: "squeeze-and-excitation channel gating",
        keys: [
            ConfigKey("squeeze", "int", default: "channels / reduction",
                      "Channels of the bottleneck, fc1's filters (torchvision `squeeze_channels`); not "
                      + "with `reduction`."),
            ConfigKey("reduction", "int", default: "16",
                      "The paper's ratio r: a bottleneck of max(1, ⌊channels/r⌋) when `squeeze` is absent."),
            ConfigKey("inner", "activation type", default: "\"relu\"", "The activation after fc1."),
            ConfigKey("gate", "activation type", default: "\"sigmoid\"",
                      "The activation after fc2 that gives the per-channel scale s."),
        ],
        example: BlockExample(["squeeze": 2],
                              input: [4, 3, 3])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    struct Config: Decodable {
        var squeeze: Int?
        var reduction: Int?
        var inner: String?
        var gate: String?
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let c = try entry.decode(Config.self, file: builder.file)
        let channels = builder.shape(of: input).dims.first ?? 0
        if c.squeeze != nil && c.reduction != nil {
            throw entry.error("give \"squeeze\" or \"reduction\", not both", key: "reduction", file: builder.file)
        }
        if let r = c.reduction, r < 1 { throw entry.error("must be ≥ 1, got \(r)", key: "reduction", file: builder.file) }
        if let q = c.squeeze, q < 1 { throw entry.error("must be ≥ 1, got \(q)", key: "squeeze", file: builder.file) }
        let squeeze = c.squeeze ?? max(1, channels / (c.reduction ?? 16))
        for (key, value) in [("inner", c.inner), ("gate", c.gate)] {
            if let value, !GraphBuilder.activationTypes.contains(value) {
                throw entry.error("unknown activation \"\(value)\""
                                  + Suggestion.hint(for: value, among: GraphBuilder.activationTypes),
                                  key: key, file: builder.file)
            }
        }
        return try add(entry.name + ".", input: input, squeeze: squeeze, inner: c.inner ?? "relu",
                       gate: c.gate ?? "sigmoid", place: entry.path, builder: &builder)
    }

    /// Adds the SE nodes under `prefix` (MBConv calls this for its own SE stage).
    static func add(_ prefix: String, input: Int, squeeze: Int, inner: String, gate: String, place: String,
                    builder: inout GraphBuilder) throws -> Int {
        let channels = builder.shape(of: input)[0]
        var x = try builder.addLayer(GlobalAvgPool.self, GlobalAvgPool.Config(keepDims: true), name: prefix + "pool",
                                     inputs: [input], place: place)
        x = try builder.addLayer(Conv2D.self, Conv2D.Config(filters: squeeze, kernel: IntPair(1)), name: prefix + "fc1",
                                 inputs: [x], place: place)
        x = try builder.addActivation(inner, name: prefix + "fc1_" + inner, input: x, place: place)
        x = try builder.addLayer(Conv2D.self, Conv2D.Config(filters: channels, kernel: IntPair(1)), name: prefix + "fc2",
                                 inputs: [x], place: place)
        x = try builder.addActivation(gate, name: prefix + "gate", input: x, place: place)
        return try builder.addLayer(Multiply.self, Multiply.Config(), name: prefix + "scale", inputs: [input, x],
                                    place: place)
    }
}
