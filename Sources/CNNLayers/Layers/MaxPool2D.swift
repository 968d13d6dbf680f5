import CNNCore

/// 2-D max pooling: `y[n, c, oh, ow] = max_{i, j} x[n, c, oh·S − P + i, ow·S − P + j]` over the
/// in-image part of each window (padding counts as −∞, as in PyTorch's `MaxPool2d`).
///
/// `x: [N, C, H, W] → y: [N, C, H′, W′]`, `H′ = floor((H + P_top + P_bottom − kh)/S) + 1`, or ceil
/// in `ceil_mode` (PyTorch's rule: the last window must start inside the input or left padding).
/// The stride defaults to the kernel and each padding must be ≤ kernel/2, as in PyTorch; then no
/// window is entirely padding. No parameters.
///
/// The argmax of every output element (flat `h·W + w` within its plane, the first maximum in
/// scan order, as PyTorch) is its saved state, `[N, C, H′, W′]` Int32: backward routes each
/// gradient to its argmax, and `max_unpool2d` receives it through a state edge (PyTorch's
/// `return_indices`, the pool's second output).
public final class MaxPool2D: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var kernel: IntPair
        var stride: IntPair?
        var padding: PaddingSpec?
        var ceilMode: Bool?

        private enum CodingKeys: String, CodingKey {
            case kernel, stride, padding, ceilMode = "ceil_mode"
        }

        public init(kernel: IntPair, stride: IntPair? = nil, padding: PaddingSpec? = nil, ceilMode: Bool? = nil) {
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.ceilMode = ceilMode
        }
    }

    public let name: String
    public static let typeName = "maxpool2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let window: WindowGeometry?
    let geometry: WindowGeometry

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let g = try Self.geometry(kernel: c.kernel, stride: c.stride, padding: c.padding,
                                  ceilMode: c.ceilMode, context: &context)
        name = context.name
        inputShapes = context.inputShapes
        outputShape = [g.channels, g.outHeight, g.outWidth]
        geometry = g
        window = g
    }

    /// The argmax of every output element.
    public func savedStateFloats(batch: Int) -> Int { batch * outputShape.count }

    /// The pooling window shared with `avgpool2d`: stride defaults to the kernel, and PyTorch's
    /// limit on padding (at most half the kernel, so no window is only padding) is enforced.
    static func geometry(kernel: IntPair, stride: IntPair?, padding: PaddingSpec?, ceilMode: Bool?,
                         context: inout LayerBuildContext) throws -> WindowGeometry {
        let g = try context.windowGeometry(
            kernel: kernel, stride: stride ?? kernel,
            padding: padding ?? .uniform(0),
            ceilMode: ceilMode ?? false)
        let (hh, hw) = (g.kernelH / 2, g.kernelW / 2)
        if max(g.padTop, g.padBottom) > hh || max(g.padLeft, g.padRight) > hw {
            let pads = [g.padTop, g.padBottom, g.padLeft, g.padRight].map(String.init)
            let half = hh == hw ? "\(hh)" : "[\(hh), \(hw)]"
            throw context.error("must be at most half the kernel (\(half)), got ["
                                + pads.joined(separator: ", ") + "] (top, bottom, left, right)",
                                key: "padding")
        }
        return g
    }

    /// The argmax indices of a batch of `n` in `state`, `[n, C, H′, W′]`, each `h·W + w`.
    func indices(in state: SavedState, batch n: Int) -> UnsafeMutablePointer<Int32> {
        state.indices(count: n * outputShape.count)
    }

    /// Planes are independent: split between the worker pool's parts.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], g = geometry
        let idx = indices(in: context.saved, batch: x.shape[0])
        context.pool.forEachRange(x.shape[0] * g.channels, itemSize: g.height * g.width,
                                  Forward(layer: self, x: x.data, end: x.data + x.count, y: output.data,
                                               indices: idx))
    }

    struct Forward: RangeWork {
        let layer: MaxPool2D, x: UnsafeMutablePointer<Float>, end: UnsafePointer<Float>
        let y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
        func run(_ planes: Range<Int>) { layer.forward(planes: planes, x: x, end: end, y: y, indices: indices) }
    }

    private func forward(planes: Range<Int>, x: UnsafeMutablePointer<Float>, end: UnsafePointer<Float>,
                         y: UnsafeMutablePointer<Float>, indices idx: UnsafeMutablePointer<Int32>) {
        let g = geometry
        let (H, W, OH, OW) = (g.height, g.width, g.outHeight, g.outWidth)
        if isTwoByTwo { return forwardTwoByTwo(planes: planes, x: x, end: end, y: y, indices: idx) }
        let threeByThree = g.kernelH == 3 && g.kernelW == 3 && g.dilationH == 1 && g.dilationW == 1
        for p in planes {
            let xp = x + p * H * W, yp = y + p * OH * OW, ip = idx + p * OH * OW
            for oh in 0..<OH {
                let top = oh * g.strideH - g.padTop
                let h0 = max(top, 0), h1 = min(top + g.kernelH, H)
                for ow in 0..<OW {
                    let left = ow * g.strideW - g.padLeft
                    let w0 = max(left, 0), w1 = min(left + g.kernelW, W)
                    // ResNet's stem pool: a 3x3 window inside the image, its nine elements in the
                    // scan order of the loop below, unrolled.
                    if threeByThree && h0 == top && h1 == top + 3 && w0 == left && w1 == left + 3 {
                        var best = -Float.infinity, at = top * W + left
                        for r in 0..<3 {
                            let row = (top + r) * W + left
                            for c in 0..<3 {
                                let v = xp[row + c], take = (v > best) != v.isNaN
                                best = take ? v : best
                                at = take ? row + c : at
                            }
                        }
                        yp[oh * OW + ow] = best
                        ip[oh * OW + ow] = Int32(at)
                        continue
                    }
                    var best = -Float.infinity, at = h0 * W + w0
                    for h in h0..<h1 {
                        for w in w0..<w1 {
                            // PyTorch's test: a NaN wins, so it propagates. Selects, not a branch:
                            // which element wins is random, and mispredictions cost 3x the loop.
                            // The two tests never both hold, so `!=` is their `||` without the
                            // short-circuit branch.
                            let v = xp[h * W + w], take = (v > best) != v.isNaN
                            best = take ? v : best
                            at = take ? h * W + w : at
                        }
                    }
                    yp[oh * OW + ow] = best
                    ip[oh * OW + ow] = Int32(at)
                }
            }
        }
    }

    /// The common 2x2, stride-2, unpadded window that never leaves the image.
    private var isTwoByTwo: Bool {
        let g = geometry
        return g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.dilationH == 1
            && g.dilationW == 1 && g.padTop == 0 && g.padLeft == 0 && 2 * g.outHeight <= g.height
            && 2 * g.outWidth <= g.width
    }

    /// Straight-line 2x2 windows: no bounds per output, the same scan order and NaN rule; eight
    /// windows at a time from two 16-float row loads split into even and odd columns. A row
    /// shorter than eight windows (LeNet's 10 → 5) still takes the vector path: the loads run on
    /// into the next row, and only its own lanes are stored; only where they would pass `end`,
    /// the input's last float, do windows go one by one.
    private func forwardTwoByTwo(planes: Range<Int>, x: UnsafeMutablePointer<Float>, end: UnsafePointer<Float>,
                                 y: UnsafeMutablePointer<Float>, indices idx: UnsafeMutablePointer<Int32>) {
        typealias V = SIMD8<Float>
        typealias I = SIMD8<Int32>
        typealias Row = SIMD16<Float>
        let g = geometry
        let (H, W, OH, OW) = (g.height, g.width, g.outHeight, g.outWidth)
        let even = I(0, 2, 4, 6, 8, 10, 12, 14), down = Int32(W)
        for p in planes {
            let xp = x + p * H * W, yp = y + p * OH * OW, ip = idx + p * OH * OW
            for oh in 0..<OH {
                let top = xp + 2 * oh * W, yr = yp + oh * OW, ir = ip + oh * OW
                var ow = 0
                while ow < OW && UnsafePointer(top + W + 2 * ow) + Row.scalarCount <= end {
                    let a = UnsafeRawPointer(top + 2 * ow).loadUnaligned(as: Row.self)
                    let b = UnsafeRawPointer(top + W + 2 * ow).loadUnaligned(as: Row.self)
                    let at = I(repeating: Int32(2 * oh * W + 2 * ow)) &+ even
                    var best = a.evenHalf, i = at
                    @inline(__always) func consider(_ v: V, _ k: I) {
                        let take = (v .> best) .| (v .!= v)
                        best.replace(with: v, where: take)
                        i.replace(with: k, where: take)
                    }
                    consider(a.oddHalf, at &+ 1)
                    consider(b.evenHalf, at &+ down)
                    consider(b.oddHalf, at &+ (down + 1))
                    let n = min(V.scalarCount, OW - ow)
                    if n == V.scalarCount {
                        UnsafeMutableRawPointer(yr + ow).storeBytes(of: best, as: V.self)
                        UnsafeMutableRawPointer(ir + ow).storeBytes(of: i, as: I.self)
                    } else {
                        for l in 0..<n { yr[ow + l] = best[l]; ir[ow + l] = i[l] }
                    }
                    ow += n
                }
                while ow < OW {
                    let at = 2 * oh * W + 2 * ow, q = top + 2 * ow
                    var best = q[0], i = at
                    @inline(__always) func consider(_ v: Float, _ k: Int) {
                        let take = (v > best) != v.isNaN
                        best = take ? v : best
                        i = take ? k : i
                    }
                    consider(q[1], at + 1)
                    consider(q[W], at + W)
                    consider(q[W + 1], at + W + 1)
                    yr[ow] = best
                    ir[ow] = Int32(i)
                    ow += 1
                }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let g = geometry, idx = indices(in: context.saved, batch: dy.shape[0])
        context.pool.forEachRange(dy.shape[0] * g.channels, itemSize: g.height * g.width,
                                  Backward(plane: g.height * g.width, outPlane: g.outArea, dx: dx.data,
                                                dy: dy.data, indices: idx))
    }

    /// Routes each output gradient to its plane's argmax.
    struct Backward: RangeWork {
        let plane: Int, outPlane: Int, dx: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>
        let indices: UnsafeMutablePointer<Int32>

        func run(_ planes: Range<Int>) {
            for p in planes {
                let dxp = dx + p * plane, dyp = dy + p * outPlane, ip = indices + p * outPlane
                for i in 0..<outPlane { dxp[Int(ip[i])] += dyp[i] }
            }
        }
    }

    public static let registration = LayerRegistration(
        MaxPool2D.self, summary: "2-D max pooling (padding, ceil mode; argmax kept for unpool)",
        keys: poolingWindowKeys(paddingReadsAs: "−∞"),
        example: LayerExample(["kernel": 3, "stride": [2, 1], "padding": 1, "ceil_mode": true],
                              inputs: [[2, 6, 5]], spacedInputs: true)
    )
}
