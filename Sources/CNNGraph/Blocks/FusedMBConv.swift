import CNNLayers

/// Fused-MBConv (Tan & Le 2021, EfficientNetV2): the expansion 1x1 and the depthwise k×k of
/// MBConv fused into one regular k×k convolution with the stride, then optional SE and a 1x1
/// projection; with `expand` 1 a single k×k convolution to `filters` (as torchvision).
/// Same keys and skip rule as `mbconv`; default expansion 4.
enum FusedMBConv: Block {
    static let type = "fused_mbconv"
    static let registration = BlockRegistration(
        type: type, summary: "fused MBConv (EfficientNetV2): k×k expansion convolution, SE, 1x1 projection",
        keys: [
            ConfigKey("filters", "int", "Output channels of the block."),
            ConfigKey("expand", "int", default: "4",
                      "Expansion ratio: the k×k convolution's width = input channels·expand; with 1 it "
                      + "maps straight to `filters` and there is no 1x1 projection."),
            ConfigKey("kernel", "int", default: "3",
                      "Odd kernel size of the fused convolution (padding kernel/2)."),
            ConfigKey("stride", "int", default: "1", "Stride of the fused convolution."),
            ConfigKey("se", "number", default: "0",
                      "SE ratio in [0, 1): an SE of max(1, ⌊input channels·se⌋) channels after the fused "
                      + "convolution; 0 for none."),
            ConfigKey("nonlinearity", "activation type", default: "\"silu\"",
                      "The activation after the fused convolution, and inside the SE."),
            ConfigKey("bn_eps", "number", default: "1e-5", "ε of the block's batch norms."),
            ConfigKey("skip", "bool", default: "true",
                      "Adds the input to the output when the stride is 1 and the channels match."),
        ],
        example: BlockExample(["filters": 3, "expand": 2, "kernel": 3, "stride": 2],
                              input: [2, 6, 6])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let c = try entry.decode(MBConv.Config.self, file: builder.file)
        let p = try MBConv.Parameters(c, entry: entry, builder: builder, input: input, defaultExpand: 4)
        let prefix = entry.name + "."
        let fusedOnly = p.hidden == p.inChannels
        var x = try builder.convNormAct(prefix + "fused.", input: input, filters: fusedOnly ? c.filters : p.hidden,
                                        kernel: p.kernel, stride: p.stride, eps: c.bnEps, activation: p.act,
                                        place: entry.path)
        if let squeeze = p.squeeze {
            x = try builder.inBlock(BlockFrame(name: prefix + "se", type: SqueezeExcitation.type)) { b in
                try SqueezeExcitation.add(prefix + "se.", input: x, squeeze: squeeze, inner: p.act,
                                          gate: "sigmoid", place: entry.path, builder: &b)
            }
        }
        if !fusedOnly {
            x = try builder.convNormAct(prefix + "project.", input: x, filters: c.filters, kernel: 1,
                                        eps: c.bnEps, activation: nil, place: entry.path)
        }
        return try p.addSkip(prefix, input: input, output: x, entry: entry, builder: &builder)
    }
}
