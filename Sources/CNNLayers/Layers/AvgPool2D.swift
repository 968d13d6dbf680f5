import CNNCore

/// 2-D average pooling: `y[n, c, oh, ow] = (1/d) Σ_{i, j} x[n, c, oh·S − P + i, ow·S − P + j]`,
/// padded pixels reading 0 (PyTorch's `AvgPool2d`).
///
/// `x: [N, C, H, W] → y: [N, C, H′, W′]`, `H′ = floor((H + P_top + P_bottom − kh)/S) + 1`, or ceil
/// in `ceil_mode`. The stride defaults to the kernel and each padding must be ≤ kernel/2, as in
/// PyTorch. The divisor `d` is, as in PyTorch's `avg_pool2d`: with `count_include_pad` (the
/// default) the window clipped to the padded image, so a ceil-mode window hanging past the padding
/// counts only its in-image and padding part; without it, only the in-image pixels. No parameters.
public final class AvgPool2D: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var kernel: IntPair
        var stride: IntPair?
        var padding: PaddingSpec?
        var ceilMode: Bool?
        var countIncludePad: Bool?

        private enum CodingKeys: String, CodingKey {
            case kernel, stride, padding, ceilMode = "ceil_mode", countIncludePad = "count_include_pad"
        }

        public init(kernel: IntPair, stride: IntPair? = nil, padding: PaddingSpec? = nil, ceilMode: Bool? = nil,
                    countIncludePad: Bool? = nil) {
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.ceilMode = ceilMode
            self.countIncludePad = countIncludePad
        }
    }

    public let name: String
    public static let typeName = "avgpool2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let window: WindowGeometry?
    let geometry: WindowGeometry
    /// `1/d` per output position `oh·W′ + ow` (the same for every plane).
    let reciprocal: [Float]
    /// Whether padded positions count in the divisor (PyTorch's `count_include_pad`).
    let countIncludePad: Bool

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let g = try MaxPool2D.geometry(kernel: c.kernel, stride: c.stride, padding: c.padding,
                                       ceilMode: c.ceilMode, context: &context)
        let includePad = c.countIncludePad ?? true
        countIncludePad = includePad
        name = context.name
        inputShapes = context.inputShapes
        outputShape = [g.channels, g.outHeight, g.outWidth]
        geometry = g
        window = g
        // The divisor per output position, the same for every plane.
        var r = [Float](repeating: 0, count: g.outArea)
        for oh in 0..<g.outHeight {
            let dh = Self.extent(oh, stride: g.strideH, padBefore: g.padTop, padAfter: g.padBottom,
                                 kernel: g.kernelH, length: g.height)
            for ow in 0..<g.outWidth {
                let dw = Self.extent(ow, stride: g.strideW, padBefore: g.padLeft,
                                     padAfter: g.padRight, kernel: g.kernelW, length: g.width)
                let d = includePad ? dh.padded * dw.padded : dh.inside * dw.inside
                r[oh * g.outWidth + ow] = d > 0 ? 1 / Float(d) : 0
            }
        }
        reciprocal = r
    }

    /// Window `o`'s length along one axis clipped to the padded line (PyTorch's
    /// count_include_pad divisor) and clipped to the image (the pixels summed).
    static func extent(_ o: Int, stride: Int, padBefore: Int, padAfter: Int, kernel: Int,
                       length: Int) -> (padded: Int, inside: Int) {
        let start = o * stride - padBefore
        let end = min(start + kernel, length + padAfter)
        return (end - start, max(min(end, length) - max(start, 0), 0))
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], g = geometry
        let (H, W, OH, OW) = (g.height, g.width, g.outHeight, g.outWidth)
        reciprocal.withUnsafeBufferPointer { r in
            for p in 0..<(x.shape[0] * g.channels) {
                let xp = x.data + p * H * W, yp = output.data + p * OH * OW
                for oh in 0..<OH {
                    let (h0, h1) = rows(oh)
                    for ow in 0..<OW {
                        let (w0, w1) = columns(ow)
                        var s: Float = 0
                        for h in h0..<h1 {
                            for w in w0..<w1 { s += xp[h * W + w] }
                        }
                        yp[oh * OW + ow] = s * r[oh * OW + ow]
                    }
                }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let g = geometry
        let (H, W, OH, OW) = (g.height, g.width, g.outHeight, g.outWidth)
        reciprocal.withUnsafeBufferPointer { r in
            for p in 0..<(dy.shape[0] * g.channels) {
                let dxp = dx.data + p * H * W, dyp = dy.data + p * OH * OW
                for oh in 0..<OH {
                    let (h0, h1) = rows(oh)
                    for ow in 0..<OW {
                        let (w0, w1) = columns(ow)
                        let v = dyp[oh * OW + ow] * r[oh * OW + ow]
                        for h in h0..<h1 {
                            for w in w0..<w1 { dxp[h * W + w] += v }
                        }
                    }
                }
            }
        }
    }

    /// The in-image rows of window row `oh`, half-open (never empty: padding ≤ kernel/2).
    @inline(__always)
    private func rows(_ oh: Int) -> (Int, Int) {
        let top = oh * geometry.strideH - geometry.padTop
        return (max(top, 0), max(min(top + geometry.kernelH, geometry.height), max(top, 0)))
    }

    @inline(__always)
    private func columns(_ ow: Int) -> (Int, Int) {
        let left = ow * geometry.strideW - geometry.padLeft
        return (max(left, 0), max(min(left + geometry.kernelW, geometry.width), max(left, 0)))
    }

    public static let registration = LayerRegistration(
        AvgPool2D.self, summary: "2-D average pooling (padding, ceil mode, count_include_pad)",
        keys: poolingWindowKeys(paddingReadsAs: "0") + [
            ConfigKey("count_include_pad", "bool", default: "true",
                      "Divides by the window clipped to the padded input (padding counts), or, when "
                      + "false, by the number of input pixels in the window."),
        ],
        example: LayerExample(["kernel": [3, 2], "stride": 2, "padding": [1, 0], "ceil_mode": true,
                               "count_include_pad": false], inputs: [[2, 6, 5]])
    )
}
