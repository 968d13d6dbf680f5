import CNNCore

/// 2-D convolution (cross-correlation, as in every framework):
/// `y[n, f, oh, ow] = b[f] + Σ_{c ∈ group(f), i, j} w[f, c, i, j] · x[n, c, oh·S − P + i·D, ow·S − P + j·D]`.
///
/// `x: [N, C, H, W] → y: [N, F, H′, W′]`, `H′ = floor((H − D·(kh − 1) − 1 + P_top + P_bottom)/S) + 1`.
/// Weights `[F, C/groups, kh, kw]` (PyTorch layout), PyTorch's default init U(±1/√fan_in).
///
/// The layer holds the config, the parameters and the connection table, and splits each call's
/// batch between the worker pool's parts; the arithmetic is one of the `ConvolutionAlgorithm`s
/// (lowered, pointwise, depthwise, AVX-512 direct, Winograd), chosen once by
/// `ConvolutionSelection`.
///
/// With a connection table (LeNet-5's C3) the weight holds only the connected kernels,
/// `[connections, kh, kw]` (`ConnectedWeights`).
public final class Conv2D: ConfiguredLayer, AffineAbsorbing, AlgorithmChoosing {
    public struct Config: Decodable, Sendable {
        var filters: Int
        var kernel: IntPair
        var stride: IntPair?
        var padding: PaddingSpec?
        var paddingMode: PaddingMode?
        var dilation: IntPair?
        var groups: Int?
        var bias: Bool?
        var connections: ConnectionTable?

        private enum CodingKeys: String, CodingKey {
            case filters, kernel, stride, padding, paddingMode = "padding_mode", dilation, groups, bias
            case connections
        }

        public init(filters: Int, kernel: IntPair, stride: IntPair? = nil, padding: PaddingSpec? = nil,
                    paddingMode: PaddingMode? = nil, dilation: IntPair? = nil, groups: Int? = nil,
                    bias: Bool? = nil) {
            self.filters = filters
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.paddingMode = paddingMode
            self.dilation = dilation
            self.groups = groups
            self.bias = bias
        }
    }

    public let name: String
    public static let typeName = "conv2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let window: WindowGeometry?
    let shape: ConvolutionShape
    let hasBias: Bool
    let paddingMode: PaddingMode
    /// The connection table's weights, when there is one.
    let connected: ConnectedWeights?
    /// The algorithm, and the one that runs batches below `minimumBatch` (Winograd's fallback).
    let algorithm: any ConvolutionAlgorithm
    let smallBatchAlgorithm: (any ConvolutionAlgorithm)?
    /// `ConvolutionSelection.winogradMinimumBatch`; tests lower it.
    var minimumBatch = ConvolutionSelection.winogradMinimumBatch

    var weight: Tensor!, bias: Tensor?
    var weightGrad: Tensor!, biasGrad: Tensor?

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let g = try context.windowGeometry(kernel: c.kernel, stride: c.stride ?? IntPair(1),
                                           padding: c.padding ?? .uniform(0),
                                           dilation: c.dilation ?? IntPair(1))
        let groups = c.groups ?? 1
        guard c.filters >= 1 else { throw context.error("must be ≥ 1, got \(c.filters)", key: "filters") }
        guard groups >= 1, g.channels % groups == 0, c.filters % groups == 0 else {
            throw context.error("must divide both the input channels (\(g.channels)) and filters "
                                + "(\(c.filters)), got \(groups)", key: "groups")
        }
        if let t = c.connections {
            guard groups == 1 else { throw context.error("cannot be combined with groups", key: "connections") }
            connected = ConnectedWeights(try t.resolve(filters: c.filters, channels: g.channels, context: context),
                                         geometry: g)
        } else {
            connected = nil
        }
        try context.checkSize([c.filters, g.outHeight, g.outWidth], "output")
        try context.checkSize([c.filters, g.channels / groups, g.kernelH, g.kernelW], "weight")
        name = context.name
        inputShapes = context.inputShapes
        window = g
        shape = ConvolutionShape(geometry: g, filters: c.filters, groups: groups)
        hasBias = c.bias ?? true
        paddingMode = c.paddingMode ?? .zeros
        outputShape = [c.filters, g.outHeight, g.outWidth]
        (algorithm, smallBatchAlgorithm) = ConvolutionSelection.choose(shape, mode: c.paddingMode ?? .zeros,
                                                                       kernels: context.kernels)
    }

    public var outputChannels: Int { shape.filters }
    var geometry: WindowGeometry { shape.geometry }
    var filters: Int { shape.filters }
    var fanIn: Int { shape.kernelsPerFilter * geometry.kernelArea }

    /// The algorithm a call with `batch` images runs.
    func algorithm(batch: Int) -> any ConvolutionAlgorithm {
        batch >= minimumBatch ? algorithm : smallBatchAlgorithm ?? algorithm
    }

    public func algorithmName(batch: Int) -> String { algorithm(batch: batch).name }

    public var parameterSpecs: [ParameterSpec] {
        let g = geometry
        let fan = connected.map { ($0.table.map(\.count).max() ?? 1) * g.kernelArea } ?? fanIn
        let init_ = Initializer.pytorchDefault(fanIn: fan)
        let wShape: Shape = connected.map { [$0.connections, g.kernelH, g.kernelW] }
            ?? [filters, shape.kernelsPerFilter, g.kernelH, g.kernelW]
        var specs = [ParameterSpec("weight", wShape, role: .weight, initializer: init_)]
        if hasBias { specs.append(ParameterSpec("bias", [filters], role: .bias, initializer: init_)) }
        return specs
    }

    /// torchinfo's rule: every weight and bias element is used once per output position.
    public var macs: Int { parameterCount * geometry.outArea }

    /// Floats of one part's slice: the larger algorithm's scratch, then the part's private
    /// weight and bias gradients.
    func partWorkspace(batch: Int) -> Int {
        max(algorithm.workspaceFloats(batch: batch), smallBatchAlgorithm?.workspaceFloats(batch: batch) ?? 0)
            + shape.gradientFloats
    }

    /// A Winograd layer's small batches run the direct stride-1 or the lowered algorithm, which
    /// both honour the request too.
    public var canOverwriteInputGradient: Bool { algorithm.overwritesInputGradient }

    /// Every part of the worker pool gets its own slice.
    public func workspaceSize(batch: Int) -> Int { WorkerPool.maxParts * partWorkspace(batch: batch) }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
        if hasBias { bias = parameters[1]; biasGrad = gradients[1] }
    }

    // MARK: - Forward

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, scale: nil, shift: nil, epilogue: nil, context: &context)
    }

    public func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, scale: nil, shift: nil, epilogue: epilogue, context: &context)
    }

    /// Inference with a following batch norm folded in: `y = scale[f]·(conv + b[f]) + shift[f]`,
    /// then the activation that follows it, if any, applied by each part to each image right after
    /// its product, so neither needs a node, buffer or thread hand-off of its own. The batch is
    /// split between the worker pool's parts, each in its own workspace slice.
    public func forward(inputs: [Tensor], output: Tensor, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                        epilogue: Activation?, context: inout ExecutionContext) {
        let n = inputs[0].shape[0], algorithm = algorithm(batch: n), pool = context.pool
        let call = ConvolutionForward(x: inputs[0].data, y: output.data,
                                      weight: algorithm.forwardWeights(expandedWeight(), pool: pool),
                                      batch: n, bias: bias?.data, scale: scale, shift: shift, epilogue: epilogue,
                                      shape: shape)
        if algorithm.forwardsWholeBatch {
            algorithm.forward(call, images: 0..<n, workspace: context.workspace)
        } else {
            pool.run(ForwardParts(algorithm: algorithm, call: call, workspace: context.workspace,
                                  slice: partWorkspace(batch: n), parts: min(pool.parts, n)))
        }
    }

    // MARK: - Backward

    /// Each part back-propagates its own images into private weight and bias gradients, which are
    /// then added to the layer's (one part adds directly).
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let n = inputs[0].shape[0], algorithm = algorithm(batch: n)
        let dw = connected?.denseGradient.data ?? weightGrad.data, db = biasGrad?.data
        connected?.denseGradient.zero()
        let pool = context.pool
        let parts = min(pool.parts, n), workspace = context.workspace, slice = partWorkspace(batch: n)
        var weight = expandedWeight()
        if inputGradients[0] != nil { weight = algorithm.inputGradientWeights(weight, pool: pool) }
        let call = ConvolutionBackward(x: inputs[0].data, dy: outputGradient.data, dx: inputGradients[0]?.data,
                                       overwriting: context.overwritesInputGradient, weight: weight, batch: n)
        let work = BackwardParts(algorithm: algorithm, call: call, weightGrad: dw, biasGrad: db,
                                 workspace: workspace, slice: slice, parts: parts,
                                 gradientFloats: shape.gradientFloats, weightCount: shape.gradientFloats - filters)
        pool.run(work)
        work.sumPrivateGradients()
        connected?.gather(into: weightGrad.data)
    }

    /// The weights as a dense `[F, C/groups·kh·kw]` matrix (the stored one, or the table's scatter).
    private func expandedWeight() -> UnsafeMutablePointer<Float> {
        connected?.scatter(weight.data) ?? weight.data
    }

    public static let registration = LayerRegistration(
        Conv2D.self,
        summary: "2-D convolution (groups, depthwise, dilation, padding modes, connection tables)",
        keys: [
            ConfigKey("filters", "int", "Output channels F (PyTorch `out_channels`)."),
            ConfigKey("kernel", "int or [h, w]", "Kernel size (PyTorch `kernel_size`)."),
            ConfigKey("stride", "int or [h, w]", default: "1", "Step S between window positions."),
            ConfigKey("padding", "int, [h, w], [top, bottom, left, right], \"same\" or \"valid\"",
                      default: "0",
                      "Pixels added per side; \"same\" pads D·(k − 1) in total per axis "
                      + "(the odd one bottom/right), which keeps the size at stride 1; \"valid\" is 0."),
            ConfigKey("padding_mode",
                      "\"zeros\" | \"reflect\" | \"replicate\" | \"circular\" | \"symmetric\"",
                      default: "\"zeros\"",
                      "What padding reads: zeros, the mirror without the edge pixel (reflect) or with it "
                      + "(symmetric), the edge pixel (replicate) or the wrapped-around row (circular)."),
            ConfigKey("dilation", "int or [h, w]", default: "1",
                      "Spacing D between kernel taps; a window spans D·(k − 1) + 1 pixels."),
            ConfigKey("groups", "int", default: "1",
                      "Splits channels and filters into this many groups convolved separately "
                      + "(each filter sees C/groups channels); must divide both; groups = C is depthwise."),
            ConfigKey("bias", "bool", default: "true", "Adds a learned bias per filter."),
            ConfigKey("connections", "\"lenet5_c3\" or [[input map, …], …]", default: "none",
                      "The input maps each filter sees, one list per filter, or a named table "
                      + "(LeNet-5's C3); not combined with groups."),
        ],
        example: LayerExample(["filters": 4, "kernel": [3, 2], "stride": 2, "padding": [1, 0, 1, 1],
                               "padding_mode": "reflect", "groups": 1], inputs: [[3, 5, 6]])
    )
}
