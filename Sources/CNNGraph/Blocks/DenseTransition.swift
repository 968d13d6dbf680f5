import CNNConfig
import CNNCore
import CNNLayers

/// The transition between DenseNet's dense blocks (Huang et al. 2017, §3, "compression"):
/// BN → ReLU → 1x1 conv to ⌊θ·C⌋ channels → 2x2 average pool with stride 2, named as
/// torchvision's `_Transition` (`norm`, `relu`, `conv`, `pool`).
enum DenseTransition: Block {
    static let type = "dense_transition"
    static let registration = BlockRegistration(
        type: type, summary: "DenseNet transition: BN → ReLU → 1x1 conv (compression) → 2x2 average pool",
        keys: [
            ConfigKey("compression", "number", default: "0.5",
                      "θ in (0, 1]: the convolution keeps ⌊θ·C⌋ of the C input channels (DenseNet-BC: 0.5)."),
            ConfigKey("filters", "int", default: "⌊θ·C⌋", "Output channels, instead of `compression`."),
            ConfigKey("bn_eps", "number", default: "1e-5", "ε of the batch norm."),
        ],
        example: BlockExample(["compression": 0.5], input: [4, 4, 4])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    struct Config: Decodable {
        var compression: Double?
        var filters: Int?
        var bnEps: Double?

        private enum CodingKeys: String, CodingKey { case compression, filters, bnEps = "bn_eps" }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let file = builder.file, c = try entry.decode(Config.self, file: file), shape = builder.shape(of: input)
        guard shape.rank == 3 else { throw entry.error("expects maps [C, H, W], got \(shape)", file: file) }
        if c.compression != nil && c.filters != nil {
            throw entry.error("give \"compression\" or \"filters\", not both", key: "filters", file: file)
        }
        let theta = c.compression ?? 0.5
        guard theta > 0, theta <= 1 else { throw entry.error("must be in (0, 1], got \(theta)", key: "compression", file: file) }
        let filters = c.filters ?? Int(theta * Double(shape[0]))
        guard filters >= 1 else {
            throw entry.error("leaves \(filters) channels of \(shape[0])", key: c.filters == nil ? "compression" : "filters",
                              file: file)
        }
        let prefix = entry.name + ".", place = entry.path
        var x = try builder.addLayer(BatchNorm.self, BatchNorm.Config(eps: c.bnEps.map(Float.init)), name: prefix + "norm",
                                     inputs: [input], place: place)
        x = try builder.addActivation("relu", name: prefix + "relu", input: x, place: place)
        let conv = Conv2D.Config(filters: filters, kernel: IntPair(1), stride: IntPair(1), padding: .uniform(0),
                                 groups: nil, bias: false)
        x = try builder.addLayer(Conv2D.self, conv, name: prefix + "conv", inputs: [x], place: place)
        return try builder.addLayer(AvgPool2D.self, AvgPool2D.Config(kernel: IntPair(2), stride: IntPair(2)),
                                    name: prefix + "pool", inputs: [x], place: place)
    }
}
