import CNNConfig
import CNNLayers

/// An Inception (v1) module (Szegedy et al. 2015, "Going Deeper with Convolutions", Fig. 2b):
/// parallel branches over the same input, concatenated along channels.
///
/// Either explicit `"branches": [[...], [...]]` (each a list of layers from the block input), or
/// the GoogLeNet shorthand `ch1x1`, `ch3x3red`, `ch3x3`, `ch5x5red`, `ch5x5`, `pool_proj`:
/// 1x1 | 1x1 → 3x3 | 1x1 → k×k | maxpool 3/1 → 1x1, each convolution followed by batch norm
/// and ReLU (`"conv": "conv_bn_relu"`, torchvision's BasicConv2d) or by ReLU only with a bias
/// (`"conv_relu"`, the paper). `kernel5` is the "5x5" branch's kernel: 5 in the paper; 3 in
/// torchvision's GoogLeNet (a known quirk its pretrained weights keep).
enum Inception: Block {
    static let type = "inception"
    static let registration = BlockRegistration(
        type: type, summary: "Inception v1 module: parallel branches concatenated along channels",
        keys: [
            ConfigKey("branches", "list of lists of layer entries", default: "none",
                      "Explicit branches, each from the block input (`branch1`, `branch2`, …), "
                      + "concatenated along channels; no other key but `flat_names` may be given with it."),
            ConfigKey("flat_names", "bool", default: "false",
                      "With `branches`: name every branch's entries directly inside the block "
                      + "(`Mixed_5b.branch1x1`, as torchvision's Inception modules name their convolutions) "
                      + "instead of under `branch1`, `branch2`, …; the names must then differ across branches."),
            ConfigKey("ch1x1", "int", default: "none",
                      "Filters of the 1x1 branch (required without `branches`)."),
            ConfigKey("ch3x3red", "int", default: "none",
                      "Filters of the 1x1 reduction before the 3x3 (required without `branches`)."),
            ConfigKey("ch3x3", "int", default: "none",
                      "Filters of the 3x3 convolution (required without `branches`)."),
            ConfigKey("ch5x5red", "int", default: "none",
                      "Filters of the 1x1 reduction before the \"5x5\" (required without `branches`)."),
            ConfigKey("ch5x5", "int", default: "none",
                      "Filters of the \"5x5\" (kernel5 × kernel5) convolution "
                      + "(required without `branches`)."),
            ConfigKey("pool_proj", "int", default: "none",
                      "Filters of the 1x1 after the 3x3 stride-1 max pool (required without `branches`)."),
            ConfigKey("conv", "\"conv_bn_relu\" | \"conv_relu\"", default: "\"conv_bn_relu\"",
                      "Each shorthand convolution followed by batchnorm and ReLU, without bias "
                      + "(torchvision's BasicConv2d), or by ReLU alone, with bias (the paper)."),
            ConfigKey("kernel5", "int", default: "5",
                      "Kernel of the \"5x5\" branch (torchvision's GoogLeNet uses 3)."),
            ConfigKey("bn_eps", "number", default: "1e-5", "ε of the shorthand's batch norms."),
        ],
        example: BlockExample(["ch1x1": 2, "ch3x3red": 2, "ch3x3": 3, "ch5x5red": 1, "ch5x5": 2, "pool_proj": 2],
                              input: [3, 5, 5])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    enum ConvKind: String, ConfigEnum { case convBNReLU = "conv_bn_relu", convReLU = "conv_relu" }

    struct Config: Decodable {
        var ch1x1: Int?, ch3x3Reduce: Int?, ch3x3: Int?, ch5x5Reduce: Int?, ch5x5: Int?, poolProjection: Int?
        var conv: ConvKind?
        var kernel5: Int?
        var bnEps: Double?

        private enum CodingKeys: String, CodingKey {
            case ch1x1, ch3x3Reduce = "ch3x3red", ch3x3, ch5x5Reduce = "ch5x5red", ch5x5
            case poolProjection = "pool_proj", conv, kernel5, bnEps = "bn_eps"
        }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        var entry = entry
        let file = builder.file
        let prefix = entry.name + "."
        var outputs: [Int] = []
        let flat = entry.take("flat_names")
        guard flat == nil || flat?.boolValueForFlag != nil else {
            throw entry.error("expected true or false", key: "flat_names", file: file)
        }
        if let branches = try entry.takeEntries("branches", required: false, file: file) {
            if !entry.config.keys.isEmpty {
                throw entry.error("explicit \"branches\" take no other keys", key: entry.config.keys[0], file: file)
            }
            for (i, (value, path)) in branches.enumerated() {
                guard case .array(let layers) = value else {
                    throw ConfigError(file: file, place: path, message: "expected a list of layers for this branch")
                }
                let branchPrefix = flat?.boolValueForFlag == true ? prefix : "\(prefix)branch\(i + 1)."
                outputs.append(try builder.addSequence(layers.enumerated().map { ($1, "\(path)[\($0)]") },
                                                       input: input, prefix: branchPrefix))
            }
        } else {
            if flat != nil {
                throw entry.error("names the entries of explicit \"branches\"; the shorthand's are fixed",
                                  key: "flat_names", file: file)
            }
            let c = try entry.decode(Config.self, file: file)
            let required = [("ch1x1", c.ch1x1), ("ch3x3red", c.ch3x3Reduce), ("ch3x3", c.ch3x3),
                            ("ch5x5red", c.ch5x5Reduce), ("ch5x5", c.ch5x5), ("pool_proj", c.poolProjection)]
            var ch: [Int] = []
            for (key, value) in required {
                guard let value, value >= 1 else {
                    throw entry.error(value == nil ? "missing required key \"\(key)\" (or give \"branches\")"
                                      : "must be ≥ 1", key: value == nil ? nil : key, file: file)
                }
                ch.append(value)
            }
            let norm = (c.conv ?? .convBNReLU) == .convBNReLU
            func unit(_ name: String, _ x: Int, _ f: Int, _ k: Int) throws -> Int {
                try builder.convNormAct("\(prefix)\(name).", input: x, filters: f, kernel: k, norm: norm,
                                        eps: c.bnEps, activation: "relu", place: entry.path)
            }
            outputs.append(try unit("branch1", input, ch[0], 1))
            outputs.append(try unit("branch2.1", unit("branch2.0", input, ch[1], 1), ch[2], 3))
            outputs.append(try unit("branch3.1", unit("branch3.0", input, ch[3], 1), ch[4], c.kernel5 ?? 5))
            let pool = MaxPool2D.Config(kernel: IntPair(3), stride: IntPair(1), padding: .uniform(1), ceilMode: true)
            let pooled = try builder.addLayer(MaxPool2D.self, pool, name: "\(prefix)branch4.0", inputs: [input],
                                              place: entry.path)
            outputs.append(try unit("branch4.1", pooled, ch[5], 1))
        }
        return try builder.addLayer(Concat.self, Concat.Config(), name: prefix + "concat", inputs: outputs,
                                    place: entry.path)
    }
}

private extension JSONValue {
    /// The value of a boolean key, or nil when it is no boolean.
    var boolValueForFlag: Bool? { if case .bool(let b) = self { b } else { nil } }
}
