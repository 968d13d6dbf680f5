import CNNConfig
import CNNCore
import CNNLayers

/// A residual block, y = F(x) + shortcut(x) (He et al. 2016, "Deep Residual Learning").
///
/// The body is either a preset — `"variant": "basic"` (3x3 → 3x3, ResNet-18/34) or
/// `"bottleneck"` (1x1 → 3x3 → 1x1 with 4× expansion, stride on the 3x3 as torchvision's
/// ResNet v1.5) — with `filters` and `stride`, or an explicit `"body": [...]`.
/// Shortcuts: `identity`; `projection` (1x1 conv with the body's stride + batch norm, named
/// `downsample.0/1` as torchvision); `zero_pad` (He et al.'s option A: subsample by the stride
/// and zero-pad the new channels, no parameters); `auto` (identity when shapes match, else
/// projection). The final activation is the entry's `"activation"`, applied after the add.
enum Residual: Block {
    static let type = "residual"
    static let registration = BlockRegistration(
        type: type, summary: "residual block: basic/bottleneck preset or custom body, with a shortcut",
        keys: [
            ConfigKey("body", "list of layer entries", default: "none",
                      "An explicit residual branch F(x), applied in order; give it or `variant`."),
            ConfigKey("variant", "\"basic\" | \"bottleneck\"", default: "none",
                      "A preset body of conv → batchnorm units with ReLU between: basic 3x3 → 3x3 "
                      + "(ResNet-18/34), bottleneck 1x1 → 3x3 → 1x1 (torchvision's v1.5); give it or "
                      + "`body`."),
            ConfigKey("filters", "int", default: "none",
                      "Width of the preset's convolutions "
                      + "(required with `variant`; a bottleneck outputs filters·expansion)."),
            ConfigKey("stride", "int", default: "1",
                      "The preset's stride, on the first 3x3 (basic) or the 3x3 (bottleneck); the shortcut "
                      + "subsamples to match."),
            ConfigKey("expansion", "int", default: "4",
                      "A bottleneck's output width as a multiple of `filters`."),
            ConfigKey("groups", "int", default: "1",
                      "A bottleneck's 3x3 convolution in this many groups (ResNeXt's cardinality, e.g. 32)."),
            ConfigKey("width_per_group", "int", default: "64",
                      "A bottleneck's inner width per group for every 64 `filters`, as torchvision's "
                      + "`width_per_group`: inner width = ⌊filters·width_per_group/64⌋·groups (ResNeXt-50 "
                      + "32x4d: 4; Wide ResNet-50-2: 128)."),
            ConfigKey("shortcut", "\"auto\" | \"identity\" | \"projection\" | \"zero_pad\"",
                      default: "\"auto\"",
                      "What is added to F(x). identity: the input; projection: a strided 1x1 "
                      + "conv + batchnorm (`downsample.0/1`); zero_pad: He et al.'s option A "
                      + "(subsample, zero-pad the new channels); auto: identity when the shapes match, "
                      + "else projection."),
            ConfigKey("bn_eps", "number", default: "1e-5",
                      "ε of the preset's and the projection's batch norms."),
        ],
        example: BlockExample(["variant": "basic", "filters": 4, "stride": 2, "shortcut": "projection"],
                              input: [2, 6, 6])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    enum Variant: String, ConfigEnum { case basic, bottleneck }
    enum Shortcut: String, ConfigEnum { case auto, identity, projection, zeroPad = "zero_pad" }

    struct Config: Decodable {
        var variant: Variant?
        var filters: Int?
        var stride: Int?
        var expansion: Int?
        var groups: Int?
        var widthPerGroup: Int?
        var shortcut: Shortcut?
        var bnEps: Double?

        private enum CodingKeys: String, CodingKey {
            case variant, filters, stride, expansion, groups, widthPerGroup = "width_per_group", shortcut
            case bnEps = "bn_eps"
        }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        var entry = entry
        let file = builder.file
        let body = try entry.takeEntries("body", required: false, file: file)
        let c = try entry.decode(Config.self, file: file)
        let prefix = entry.name + "."
        let bodyOut: Int
        switch (c.variant, body) {
        case (nil, let body?):
            for key in ["filters", "stride", "expansion", "groups", "width_per_group"] where entry.config[key] != nil {
                throw entry.error("only applies to a \"variant\" preset, not to an explicit body", key: key, file: file)
            }
            bodyOut = try builder.addSequence(body, input: input, prefix: prefix)
        case (let variant?, nil):
            guard let filters = c.filters, filters >= 1 else {
                throw entry.error("a \(variant.rawValue) block needs \"filters\" ≥ 1", file: file)
            }
            let stride = c.stride ?? 1
            let place = entry.path
            let groups = c.groups ?? 1, widthPerGroup = c.widthPerGroup ?? 64
            guard groups >= 1, widthPerGroup >= 1 else {
                throw entry.error("must be ≥ 1", key: groups < 1 ? "groups" : "width_per_group", file: file)
            }
            if variant == .basic, let key = c.groups != nil ? "groups" : c.widthPerGroup != nil ? "width_per_group" : nil {
                throw entry.error("applies to the bottleneck variant (torchvision's BasicBlock has neither)",
                                  key: key, file: file)
            }
            // torchvision's Bottleneck: width = int(planes · (base_width / 64)) · groups.
            let width = filters * widthPerGroup / 64 * groups
            func conv(_ n: Int, _ input: Int, _ f: Int, _ k: Int, _ s: Int, groups: Int = 1, relu: Bool) throws -> Int {
                let x = try builder.convNormAct("", input: input, filters: f, kernel: k, stride: s, groups: groups,
                                                eps: c.bnEps, activation: nil, place: place,
                                                names: ("\(prefix)conv\(n)", "\(prefix)bn\(n)"))
                return relu ? try builder.addActivation("relu", name: "\(prefix)relu\(n)", input: x, place: place) : x
            }
            if variant == .basic {
                bodyOut = try conv(2, conv(1, input, filters, 3, stride, relu: true), filters, 3, 1, relu: false)
            } else {
                let x = try conv(2, conv(1, input, width, 1, 1, relu: true), width, 3, stride, groups: groups, relu: true)
                bodyOut = try conv(3, x, filters * (c.expansion ?? 4), 1, 1, relu: false)
            }
        case (_?, _?):
            throw entry.error("give either \"variant\" or \"body\", not both", key: "body", file: file)
        case (nil, nil):
            throw entry.error("needs a \"variant\" (basic, bottleneck) or a \"body\" list", file: file)
        }
        let shortcut = try addShortcut(c.shortcut ?? .auto, entry: entry, input: input, bodyOut: bodyOut,
                                       eps: c.bnEps, builder: &builder)
        return try builder.addLayer(Add.self, Add.Config(), name: prefix + "add", inputs: [bodyOut, shortcut],
                                    place: entry.path)
    }

    private static func addShortcut(_ kind: Shortcut, entry: BlockEntry, input: Int, bodyOut: Int, eps: Double?,
                                    builder: inout GraphBuilder) throws -> Int {
        let x = builder.shape(of: input), y = builder.shape(of: bodyOut), file = builder.file
        if x == y && (kind == .auto || kind == .identity) { return input }
        if kind == .identity {
            throw entry.error("identity needs the body to keep the shape, but it maps \(x) to \(y); "
                              + "use \"projection\" or \"zero_pad\"", key: "shortcut", file: file)
        }
        // The stride whose 1x1 window maps the input size to the body's: (x − 1)/s + 1 = y
        // (exact halving, or ceil halving as TensorFlow's "same" padding gives).
        guard x.rank == 3, y.rank == 3,
              let stride = (1...max(1, x[1])).first(where: { (x[1] - 1) / $0 + 1 == y[1] && (x[2] - 1) / $0 + 1 == y[2] })
        else {
            throw entry.error("cannot match \(x) to the body's \(y) with a strided shortcut", key: "shortcut", file: file)
        }
        let prefix = entry.name + "."
        if kind == .zeroPad {
            var out = input
            if stride > 1 {
                out = try builder.addLayer(AvgPool2D.self, AvgPool2D.Config(kernel: IntPair(1), stride: IntPair(stride)),
                                           name: prefix + "shortcut_subsample", inputs: [out], place: entry.path)
            }
            if y[0] != x[0] {
                out = try builder.addLayer(PadChannels.self, PadChannels.Config(channels: y[0]),
                                           name: prefix + "shortcut_pad", inputs: [out], place: entry.path)
            }
            return out
        }
        return try builder.convNormAct("", input: input, filters: y[0], kernel: 1, stride: stride, eps: eps,
                                       activation: nil, place: entry.path,
                                       names: (prefix + "downsample.0", prefix + "downsample.1"))
    }
}
