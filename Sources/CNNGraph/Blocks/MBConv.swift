import CNNConfig
import CNNLayers

/// The inverted residual / MBConv block (Sandler et al. 2018, MobileNetV2; Tan & Le 2019,
/// EfficientNet): 1x1 expansion to `expand`× the input channels (skipped when `expand` is 1),
/// k×k depthwise convolution with the stride, optional squeeze-and-excitation, 1x1 linear
/// projection to `filters`; each convolution followed by batch norm, the first two by the
/// `nonlinearity` (relu6 for MobileNetV2, silu for EfficientNet). The input is added back when
/// stride is 1 and the channels match (`"skip": false` turns that off).
///
/// SE width follows torchvision's EfficientNet: `max(1, floor(input_channels · se))`, with the
/// SE inner activation the block's nonlinearity and a sigmoid gate.
enum MBConv: Block {
    static let type = "mbconv"
    static let registration = BlockRegistration(
        type: type, summary: "inverted residual (MobileNetV2/EfficientNet MBConv) with optional SE",
        keys: [
            ConfigKey("filters", "int", "Output channels of the 1x1 projection."),
            ConfigKey("expand", "int", default: "6",
                      "Expansion ratio: hidden channels = input channels·expand; 1 leaves out the 1x1 "
                      + "expansion."),
            ConfigKey("kernel", "int", default: "3",
                      "Odd kernel size of the depthwise convolution (padding kernel/2)."),
            ConfigKey("stride", "int", default: "1", "Stride of the depthwise convolution."),
            ConfigKey("se", "number", default: "0",
                      "SE ratio in [0, 1): an SE of max(1, ⌊input channels·se⌋) channels after the "
                      + "depthwise; 0 for none."),
            ConfigKey("nonlinearity", "activation type", default: "\"silu\"",
                      "The activation after the expansion and the depthwise, and inside the SE "
                      + "(\"relu6\" for MobileNetV2)."),
            ConfigKey("bn_eps", "number", default: "1e-5", "ε of the block's batch norms."),
            ConfigKey("skip", "bool", default: "true",
                      "Adds the input to the output when the stride is 1 and the channels match."),
        ],
        example: BlockExample(["filters": 4, "expand": 2, "kernel": 3, "se": 0.25],
                              input: [4, 5, 5])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    struct Config: Decodable {
        var filters: Int
        var expand: Int?
        var kernel: Int?
        var stride: Int?
        var se: Double?
        var nonlinearity: String?
        var bnEps: Double?
        var skip: Bool?

        private enum CodingKeys: String, CodingKey {
            case filters, expand, kernel, stride, se, nonlinearity, bnEps = "bn_eps", skip
        }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let c = try entry.decode(Config.self, file: builder.file)
        let params = try Parameters(c, entry: entry, builder: builder, input: input, defaultExpand: 6)
        let prefix = entry.name + "."
        var x = input
        if params.hidden != params.inChannels {
            x = try builder.convNormAct(prefix + "expand.", input: x, filters: params.hidden, kernel: 1,
                                        eps: c.bnEps, activation: params.act, place: entry.path)
        }
        x = try builder.convNormAct(prefix + "depthwise.", input: x, filters: params.hidden, kernel: params.kernel,
                                    stride: params.stride, groups: params.hidden, eps: c.bnEps,
                                    activation: params.act, place: entry.path)
        if let squeeze = params.squeeze {
            x = try builder.inBlock(BlockFrame(name: prefix + "se", type: SqueezeExcitation.type)) { b in
                try SqueezeExcitation.add(prefix + "se.", input: x, squeeze: squeeze, inner: params.act,
                                          gate: "sigmoid", place: entry.path, builder: &b)
            }
        }
        x = try builder.convNormAct(prefix + "project.", input: x, filters: c.filters, kernel: 1,
                                    eps: c.bnEps, activation: nil, place: entry.path)
        return try params.addSkip(prefix, input: input, output: x, entry: entry, builder: &builder)
    }

    /// The options MBConv and fused MBConv share, validated once.
    struct Parameters {
        let inChannels: Int, hidden: Int, kernel: Int, stride: Int, act: String, squeeze: Int?, skip: Bool

        init(_ c: Config, entry: BlockEntry, builder: GraphBuilder, input: Int, defaultExpand: Int) throws {
            let file = builder.file
            inChannels = builder.shape(of: input).dims.first ?? 0
            let expand = c.expand ?? defaultExpand
            guard c.filters >= 1 else { throw entry.error("must be ≥ 1", key: "filters", file: file) }
            guard expand >= 1 else { throw entry.error("must be ≥ 1", key: "expand", file: file) }
            hidden = inChannels * expand
            kernel = c.kernel ?? 3
            guard kernel >= 1, kernel % 2 == 1 else {
                throw entry.error("must be an odd size ≥ 1 (padding is kernel/2), got \(kernel)", key: "kernel", file: file)
            }
            stride = c.stride ?? 1
            act = c.nonlinearity ?? "silu"
            guard GraphBuilder.activationTypes.contains(act) else {
                throw entry.error("unknown activation \"\(act)\"" + Suggestion.hint(for: act, among: GraphBuilder.activationTypes),
                                  key: "nonlinearity", file: file)
            }
            let se = c.se ?? 0
            guard (0..<1).contains(se) else { throw entry.error("must be in [0, 1), got \(se)", key: "se", file: file) }
            squeeze = se > 0 ? max(1, Int(Double(inChannels) * se)) : nil
            skip = (c.skip ?? true) && stride == 1 && inChannels == c.filters
        }

        func addSkip(_ prefix: String, input: Int, output: Int, entry: BlockEntry, builder: inout GraphBuilder) throws -> Int {
            guard skip else { return output }
            return try builder.addLayer(Add.self, Add.Config(), name: prefix + "add", inputs: [output, input],
                                        place: entry.path)
        }
    }
}
