import CNNCore

/// 2-D transposed convolution (the adjoint of `conv2d`; PyTorch `ConvTranspose2d`, Dumoulin &
/// Visin 2016, "A guide to convolution arithmetic"). Every input pixel scatters a weighted kernel:
/// `y[n, f, h·S − P + i·D, w·S − P + j·D] += w[c, f, i, j] · x[n, c, h, w]`, plus `b[f]`.
///
/// `x: [N, C, H, W] → y: [N, F, H′, W′]`, `H′ = (H − 1)·S − 2P + D·(kh − 1) + output_padding + 1`;
/// `output_padding` (< stride or < dilation, as PyTorch) picks among the sizes that a stride-S
/// convolution would map back to H. Weights `[C, F, kh, kw]` (PyTorch layout); PyTorch's default
/// init U(±1/√fan_in) with fan_in = `F·kh·kw` (PyTorch takes it from the weight's dim 1).
///
/// Lowering (Caffe's "deconvolution"): per image `col = Wᵀ·x` (`[F·kh·kw, H·W]`), then col2im
/// into the zeroed output, with the im2col geometry of a convolution from `[F, H′, W′]` to
/// `[C, H, W]`. Backward is that convolution: `col = im2col(dy)`, `dx += W·col`, `dW += x·colᵀ`.
public final class ConvTranspose2D: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var filters: Int
        var kernel: IntPair
        var stride: IntPair?
        var padding: IntPair?
        var outputPadding: IntPair?
        var bias: Bool?
        var dilation: IntPair?

        private enum CodingKeys: String, CodingKey {
            case filters, kernel, stride, padding, outputPadding = "output_padding", bias, dilation
        }
    }

    public let name: String
    public static let typeName = "conv_transpose2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// The convolution whose adjoint this is: `[F, H′, W′]` image, `[C, H, W]` output.
    let geometry: WindowGeometry
    let lowering: Im2Col
    let inChannels: Int, filters: Int, hasBias: Bool

    var weight: Tensor!, bias: Tensor?
    var weightGrad: Tensor!, biasGrad: Tensor?

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        guard c.filters >= 1 else {
            throw context.error("must be ≥ 1, got \(c.filters)", key: "filters")
        }
        let (stride, padding) = (c.stride ?? IntPair(1), c.padding ?? IntPair(0))
        let (dilation, extra) = (c.dilation ?? IntPair(1), c.outputPadding ?? IntPair(0))
        try c.kernel.check(minimum: 1, "kernel", in: context)
        try stride.check(minimum: 1, "stride", in: context)
        try dilation.check(minimum: 1, "dilation", in: context)
        try padding.check(minimum: 0, "padding", in: context)
        try extra.check(minimum: 0, "output_padding", in: context)
        // PyTorch's rule: output_padding only picks among sizes a convolution maps back to H.
        if (extra.h >= stride.h && extra.h >= dilation.h)
            || (extra.w >= stride.w && extra.w >= dilation.w) {
            let got = extra.h == extra.w ? "\(extra.h)" : "[\(extra.h), \(extra.w)]"
            throw context.error("must be smaller than the stride or the dilation, got \(got)",
                                key: "output_padding")
        }
        func size(_ axis: String, _ n: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int,
                  _ op: Int) throws -> Int {
            let out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            guard out >= 1 else {
                let formula = "(\(n) − 1)·\(s) − 2·\(p) + \(d)·(\(k) − 1) + \(op) + 1"
                throw context.error("\(axis): \(formula) = \(out): the padding removes the whole output",
                                    key: "padding")
            }
            return out
        }
        let oh = try size("height", x[1], c.kernel.h, stride.h, padding.h, dilation.h, extra.h)
        let ow = try size("width", x[2], c.kernel.w, stride.w, padding.w, dilation.w, extra.w)
        let g = WindowGeometry(channels: c.filters, height: oh, width: ow,
                               kernelH: c.kernel.h, kernelW: c.kernel.w,
                               strideH: stride.h, strideW: stride.w,
                               padTop: padding.h, padBottom: padding.h,
                               padLeft: padding.w, padRight: padding.w,
                               dilationH: dilation.h, dilationW: dilation.w,
                               outHeight: x[1], outWidth: x[2])
        name = context.name
        inputShapes = context.inputShapes
        outputShape = [c.filters, oh, ow]
        geometry = g
        lowering = Im2Col(g)
        inChannels = x[0]
        filters = c.filters
        hasBias = c.bias ?? true
    }

    public var parameterSpecs: [ParameterSpec] {
        let g = geometry
        let init_ = Initializer.pytorchDefault(fanIn: filters * g.kernelArea)
        var specs = [ParameterSpec("weight", [inChannels, filters, g.kernelH, g.kernelW],
                                   role: .weight, initializer: init_)]
        if hasBias { specs.append(ParameterSpec("bias", [filters], role: .bias, initializer: init_)) }
        return specs
    }

    /// torchinfo's rule for conv-like layers: every parameter once per output position.
    public var macs: Int { parameterCount * outputShape[1] * outputShape[2] }

    public func workspaceSize(batch: Int) -> Int { geometry.columnRows * geometry.outArea }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
        if hasBias { bias = parameters[1]; biasGrad = gradients[1] }
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], g = geometry
        let (inArea, outArea) = (g.outArea, g.height * g.width)
        let col = context.workspace
        for b in 0..<x.shape[0] {
            let xb = x.data + b * inChannels * inArea, yb = output.data + b * filters * outArea
            // col[F·kh·kw, H·W] = Wᵀ · x, W viewed as [C, F·kh·kw].
            gemm(transA: true, m: g.columnRows, n: inArea, k: inChannels,
                 a: weight.data, b: xb, c: col)
            yb.update(repeating: 0, count: filters * outArea)
            lowering.accumulate(col, into: yb)
            if let bias {
                for f in 0..<filters {
                    let v = bias.data[f], row = yb + f * outArea
                    for i in 0..<outArea { row[i] += v }
                }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0], dx = inputGradients[0], g = geometry
        let (inArea, outArea) = (g.outArea, g.height * g.width)
        let col = context.workspace
        for b in 0..<x.shape[0] {
            let xb = x.data + b * inChannels * inArea
            let dyb = dy.data + b * filters * outArea
            if let biasGrad {
                for f in 0..<filters {
                    var s: Float = 0
                    let row = dyb + f * outArea
                    for i in 0..<outArea { s += row[i] }
                    biasGrad.data[f] += s
                }
            }
            lowering.lower(dyb, into: col)
            // dW[C, F·kh·kw] += x · colᵀ
            gemm(transB: true, m: inChannels, n: g.columnRows, k: inArea, a: xb, b: col,
                 beta: 1, c: weightGrad.data)
            if let dx {
                // dx[C, H·W] += W · col: the forward convolution applied to dy.
                gemm(m: inChannels, n: inArea, k: g.columnRows, a: weight.data, b: col,
                     beta: 1, c: dx.data + b * inChannels * inArea)
            }
        }
    }

    public static let registration = LayerRegistration(
        ConvTranspose2D.self,
        summary: "2-D transposed convolution (stride, padding, output_padding, dilation)",
        keys: [
            ConfigKey("filters", "int", "Output channels F (PyTorch `out_channels`)."),
            ConfigKey("kernel", "int or [h, w]", "Kernel size (PyTorch `kernel_size`)."),
            ConfigKey("stride", "int or [h, w]", default: "1",
                      "Output step S between the kernels that neighbouring input pixels scatter "
                      + "(the upsampling factor)."),
            ConfigKey("padding", "int or [h, w]", default: "0",
                      "Rows/columns P removed from each side of the output: "
                      + "H′ = (H − 1)·S − 2P + D·(k − 1) + output_padding + 1."),
            ConfigKey("output_padding", "int or [h, w]", default: "0",
                      "Rows/columns added at the bottom/right of the output, choosing among the sizes a "
                      + "stride-S convolution maps back to H; smaller than the stride or the dilation."),
            ConfigKey("bias", "bool", default: "true", "Adds a learned bias per filter."),
            ConfigKey("dilation", "int or [h, w]", default: "1",
                      "Spacing D between kernel taps; a kernel spans D·(k − 1) + 1 output pixels."),
        ],
        example: LayerExample(["filters": 3, "kernel": [3, 2], "stride": [2, 3], "padding": 1,
                               "output_padding": [1, 0], "dilation": [1, 2]], inputs: [[2, 3, 4]])
    )
}
