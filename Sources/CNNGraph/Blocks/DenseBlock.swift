import CNNConfig
import CNNCore
import CNNLayers

/// A dense block of DenseNet-BC (Huang et al. 2017, "Densely Connected Convolutional Networks",
/// §3): `layers` dense layers, layer ℓ reading the concatenation [x_0, x_1, …, x_ℓ−1] of the
/// block input and every earlier layer's `growth_rate` new maps, through the pre-activation
/// bottleneck BN → ReLU → 1x1 conv (bn_size·k filters) → BN → ReLU → 3x3 conv (k filters);
/// the block outputs the concatenation of all of them, c_0 + layers·k channels.
///
/// Node and parameter names are torchvision's `_DenseBlock`: `denselayer1` (a
/// `dense_bottleneck`, holding `norm1.*` and `conv1.weight`), `denselayer1.norm2`,
/// `denselayer1.relu2`, `denselayer1.conv2`, …, then `concat`. The concatenations each layer
/// reads are never stored (see `DenseBottleneck`), so the block's memory is linear in its depth.
enum DenseBlock: Block {
    static let type = "dense_block"
    static let registration = BlockRegistration(
        type: type, summary: "DenseNet-BC dense block: each layer reads the concatenation of all earlier maps",
        keys: [
            ConfigKey("layers", "int", "Number of dense layers, 1 to 1000 (DenseNet-121: 6, 12, 24, 16)."),
            ConfigKey("growth_rate", "int", "k, the new maps each layer adds (DenseNet-121: 32; DenseNet-BC-100: 12)."),
            ConfigKey("bn_size", "int", default: "4",
                      "The bottleneck's width as a multiple of k (torchvision's `bn_size`)."),
            ConfigKey("bn_eps", "number", default: "1e-5", "ε of the block's batch norms."),
        ],
        example: BlockExample(["layers": 2, "growth_rate": 2, "bn_size": 2], input: [3, 4, 4])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    static let maximumLayers = 1000

    struct Config: Decodable {
        var layers: Int
        var growthRate: Int
        var bnSize: Int?
        var bnEps: Double?

        private enum CodingKeys: String, CodingKey {
            case layers, growthRate = "growth_rate", bnSize = "bn_size", bnEps = "bn_eps"
        }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let file = builder.file, c = try entry.decode(Config.self, file: file)
        guard (1...maximumLayers).contains(c.layers) else {
            throw entry.error("must be in 1...\(maximumLayers), got \(c.layers)", key: "layers", file: file)
        }
        for (key, value) in [("growth_rate", c.growthRate), ("bn_size", c.bnSize ?? 4)] where value < 1 {
            throw entry.error("must be ≥ 1, got \(value)", key: key, file: file)
        }
        guard builder.shape(of: input).rank == 3 else {
            throw entry.error("expects maps [C, H, W], got \(builder.shape(of: input))", file: file)
        }
        let prefix = entry.name + ".", place = entry.path, eps = c.bnEps.map(Float.init)
        var features = [input]
        for i in 1...c.layers {
            let layer = "\(prefix)denselayer\(i)"
            var x = try builder.addLayer(DenseBottleneck.self,
                                         DenseBottleneck.Config(filters: (c.bnSize ?? 4) * c.growthRate, eps: eps),
                                         name: layer, inputs: features, place: place)
            x = try builder.addLayer(BatchNorm.self, BatchNorm.Config(eps: eps), name: layer + ".norm2", inputs: [x],
                                     place: place)
            x = try builder.addActivation("relu", name: layer + ".relu2", input: x, place: place)
            let conv = Conv2D.Config(filters: c.growthRate, kernel: IntPair(3), stride: IntPair(1),
                                     padding: .uniform(1), groups: nil, bias: false)
            features.append(try builder.addLayer(Conv2D.self, conv, name: layer + ".conv2", inputs: [x], place: place))
        }
        return try builder.addLayer(Concat.self, Concat.Config(), name: prefix + "concat", inputs: features, place: place)
    }
}
