import CNNConfig
import CNNCore
import CNNLayers

/// Depthwise-separable convolution (Chollet 2017, "Xception"; Keras SeparableConv2D): a
/// depthwise k×k convolution (groups = channels, `depth_multiplier` filters per channel, no
/// bias) then a pointwise 1x1 convolution to `filters` (bias by default, as Keras).
/// Nodes: `depthwise`, `pointwise`.
enum SeparableConv2D: Block {
    static let type = "separable_conv2d"
    static let registration = BlockRegistration(
        type: type, summary: "depthwise k×k convolution followed by a pointwise 1x1 convolution",
        keys: [
            ConfigKey("filters", "int", "Output channels of the pointwise 1x1 convolution."),
            ConfigKey("kernel", "int or [h, w]", "Kernel size of the depthwise convolution."),
            ConfigKey("stride", "int or [h, w]", default: "1", "Stride of the depthwise convolution."),
            ConfigKey("padding", "int, [h, w], [top, bottom, left, right], \"same\" or \"valid\"",
                      default: "0",
                      "Padding of the depthwise convolution, as conv2d's."),
            ConfigKey("padding_mode",
                      "\"zeros\" | \"reflect\" | \"replicate\" | \"circular\" | \"symmetric\"",
                      default: "\"zeros\"",
                      "What the depthwise convolution's padding reads, as conv2d's."),
            ConfigKey("dilation", "int or [h, w]", default: "1", "Dilation of the depthwise convolution."),
            ConfigKey("depth_multiplier", "int", default: "1",
                      "Depthwise filters per input channel (Keras `depth_multiplier`)."),
            ConfigKey("bias", "bool", default: "true",
                      "A bias on the pointwise convolution (the depthwise one never has one)."),
        ],
        example: BlockExample(["filters": 4, "kernel": 3, "padding": 1, "depth_multiplier": 2],
                              input: [2, 5, 5])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    struct Config: Decodable {
        var filters: Int
        var kernel: IntPair
        var stride: IntPair?
        var padding: PaddingSpec?
        var paddingMode: PaddingMode?
        var dilation: IntPair?
        var depthMultiplier: Int?
        var bias: Bool?

        private enum CodingKeys: String, CodingKey {
            case filters, kernel, stride, padding, paddingMode = "padding_mode", dilation
            case depthMultiplier = "depth_multiplier", bias
        }
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        let c = try entry.decode(Config.self, file: builder.file)
        let channels = builder.shape(of: input).dims.first ?? 0
        let multiplier = c.depthMultiplier ?? 1
        guard multiplier >= 1 else {
            throw entry.error("must be ≥ 1", key: "depth_multiplier", file: builder.file)
        }
        let depthwise = Conv2D.Config(filters: channels * multiplier, kernel: c.kernel, stride: c.stride,
                                      padding: c.padding, paddingMode: c.paddingMode, dilation: c.dilation,
                                      groups: channels, bias: false)
        let prefix = entry.name + "."
        let d = try builder.addLayer(Conv2D.self, depthwise, name: prefix + "depthwise", inputs: [input],
                                     place: entry.path)
        let pointwise = Conv2D.Config(filters: c.filters, kernel: IntPair(1), bias: c.bias ?? true)
        return try builder.addLayer(Conv2D.self, pointwise, name: prefix + "pointwise", inputs: [d], place: entry.path)
    }
}
