import CNNCore

/// 2-D convolution (cross-correlation, as in every framework):
/// `y[n, f, oh, ow] = b[f] + Σ_{c ∈ group(f), i, j} w[f, c, i, j] · x[n, c, oh·S − P + i·D, ow·S − P + j·D]`.
///
/// `x: [N, C, H, W] → y: [N, F, H′, W′]`, `H′ = floor((H − D·(kh − 1) − 1 + P_top + P_bottom)/S) + 1`.
/// Weights `[F, C/groups, kh, kw]` (PyTorch layout), PyTorch's default init U(±1/√fan_in).
/// Lowering: per image im2col + one sgemm per group (Caffe); 1x1/stride 1/no padding reads the
/// input directly; groups == channels uses the direct depthwise kernel.
///
/// A connection table (LeNet-5's C3, LeCun et al. 1998, Table I) lists for each output map the
/// input maps it sees; the weight then holds only those kernels, `[connections, kh, kw]`, and is
/// scattered into a dense masked `[F, C, kh, kw]` matrix for the sgemm.
public final class Conv2D: Layer {
    public struct Config: Decodable, Sendable {
        var filters: Int
        var kernel: IntPair
        var stride: IntPair?
        var padding: PaddingSpec?
        var padding_mode: PaddingMode?
        var dilation: IntPair?
        var groups: Int?
        var bias: Bool?
        var connections: ConnectionTable?
    }

    public let name: String
    public var type: String { "conv2d" }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let window: WindowGeometry?
    let geometry: WindowGeometry
    let lowering: Im2Col
    let filters: Int, groups: Int, hasBias: Bool
    let table: [[Int]]?
    let depthwise: DepthwiseConv?

    var weight: Tensor!, bias: Tensor?
    var weightGrad: Tensor!, biasGrad: Tensor?
    /// Dense `[F, C, kh, kw]` weights and their gradient when a connection table is used.
    private var denseWeight: Tensor?, denseWeightGrad: Tensor?

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let g = try context.windowGeometry(kernel: c.kernel, stride: c.stride ?? IntPair(1),
                                           padding: c.padding ?? .explicit(top: 0, bottom: 0, left: 0, right: 0),
                                           dilation: c.dilation ?? IntPair(1))
        let groups = c.groups ?? 1
        guard c.filters >= 1 else { throw context.error("must be ≥ 1, got \(c.filters)", key: "filters") }
        guard groups >= 1, g.channels % groups == 0, c.filters % groups == 0 else {
            throw context.error("must divide both the input channels (\(g.channels)) and filters "
                                + "(\(c.filters)), got \(groups)", key: "groups")
        }
        if let t = c.connections {
            guard groups == 1 else { throw context.error("cannot be combined with groups", key: "connections") }
            table = try t.resolve(filters: c.filters, channels: g.channels, context: context)
        } else {
            table = nil
        }
        name = context.name
        inputShapes = context.inputShapes
        geometry = g
        window = g
        lowering = Im2Col(g, mode: c.padding_mode ?? .zeros)
        filters = c.filters
        self.groups = groups
        hasBias = c.bias ?? true
        outputShape = [c.filters, g.outHeight, g.outWidth]
        depthwise = groups == g.channels && groups > 1
            ? DepthwiseConv(lowering, multiplier: c.filters / groups) : nil
        if table != nil {
            denseWeight = Tensor(shape: [filters, g.columnRows])
            denseWeightGrad = Tensor(shape: [filters, g.columnRows])
        }
    }

    var kernelsPerFilter: Int { geometry.channels / groups }
    var fanIn: Int { kernelsPerFilter * geometry.kernelArea }
    var connectionCount: Int { table?.reduce(0) { $0 + $1.count } ?? 0 }
    /// 1x1, stride 1, unpadded: the input already is the lowered matrix.
    var isPointwise: Bool {
        let g = geometry
        return g.kernelArea == 1 && g.strideH == 1 && g.strideW == 1
            && g.padTop + g.padBottom + g.padLeft + g.padRight == 0
    }

    public var parameterSpecs: [ParameterSpec] {
        let g = geometry
        let fan = table.map { ($0.map(\.count).max() ?? 1) * g.kernelArea } ?? fanIn
        let init_ = Initializer.pytorchDefault(fanIn: fan)
        let wShape: Shape = table == nil
            ? [filters, kernelsPerFilter, g.kernelH, g.kernelW] : [connectionCount, g.kernelH, g.kernelW]
        var specs = [ParameterSpec("weight", wShape, role: .weight, initializer: init_)]
        if hasBias { specs.append(ParameterSpec("bias", [filters], role: .bias, initializer: init_)) }
        return specs
    }

    /// torchinfo's rule: every weight and bias element is used once per output position.
    public var macs: Int { parameterCount * geometry.outArea }

    public func workspaceSize(batch: Int) -> Int {
        depthwise != nil || isPointwise ? 0 : 2 * geometry.columnRows * geometry.outArea
    }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
        if hasBias { bias = parameters[1]; biasGrad = gradients[1] }
    }

    // MARK: - Forward

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], g = geometry
        let n = x.shape[0], inSize = g.channels * g.height * g.width, outSize = filters * g.outArea
        let w = expandedWeight()
        let col = context.workspace
        for b in 0..<n {
            let xb = x.data + b * inSize, yb = output.data + b * outSize
            if let depthwise {
                depthwise.forward(x: xb, weight: w, y: yb)
            } else {
                let lowered: UnsafePointer<Float>
                if isPointwise { lowered = UnsafePointer(xb) } else { lowering.lower(xb, into: col); lowered = UnsafePointer(col) }
                let (mg, kg) = (filters / groups, kernelsPerFilter * g.kernelArea)
                for gr in 0..<groups {
                    gemm(m: mg, n: g.outArea, k: kg, a: w + gr * mg * kg, b: lowered + gr * kg * g.outArea,
                         c: yb + gr * mg * g.outArea)
                }
            }
            if let bias {
                for f in 0..<filters {
                    let v = bias.data[f], row = yb + f * g.outArea
                    for i in 0..<g.outArea { row[i] += v }
                }
            }
        }
    }

    // MARK: - Backward

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0], dx = inputGradients[0], g = geometry
        let n = x.shape[0], inSize = g.channels * g.height * g.width, outSize = filters * g.outArea
        let w = expandedWeight()
        let dw = denseWeightGrad?.data ?? weightGrad.data
        denseWeightGrad?.zero()
        let col = context.workspace, dcol = context.workspace + g.columnRows * g.outArea
        let (mg, kg) = (filters / groups, kernelsPerFilter * g.kernelArea)
        for b in 0..<n {
            let xb = x.data + b * inSize, dyb = dy.data + b * outSize
            if let biasGrad {
                for f in 0..<filters {
                    var s: Float = 0
                    let row = dyb + f * g.outArea
                    for i in 0..<g.outArea { s += row[i] }
                    biasGrad.data[f] += s
                }
            }
            if let depthwise {
                depthwise.backward(x: xb, weight: w, dy: dyb, dx: dx.map { $0.data + b * inSize }, dw: dw)
                continue
            }
            let lowered: UnsafePointer<Float>
            if isPointwise { lowered = UnsafePointer(xb) } else { lowering.lower(xb, into: col); lowered = UnsafePointer(col) }
            for gr in 0..<groups {
                // dW[g] += dY[g] · col[g]ᵀ
                gemm(transB: true, m: mg, n: kg, k: g.outArea, a: dyb + gr * mg * g.outArea,
                     b: lowered + gr * kg * g.outArea, beta: 1, c: dw + gr * mg * kg)
            }
            guard let dx else { continue }
            let dxb = dx.data + b * inSize
            // dcol[g] = W[g]ᵀ · dY[g]; pointwise adds straight into dx.
            let target = isPointwise ? dxb : dcol
            for gr in 0..<groups {
                gemm(transA: true, m: kg, n: g.outArea, k: mg, a: w + gr * mg * kg,
                     b: dyb + gr * mg * g.outArea, beta: isPointwise ? 1 : 0, c: target + gr * kg * g.outArea)
            }
            if !isPointwise { lowering.accumulate(dcol, into: dxb) }
        }
        if let table, let dense = denseWeightGrad { gatherConnections(table, from: dense.data, into: weightGrad.data) }
    }

    // MARK: - Connection tables

    /// The weights as a dense `[F, C/groups·kh·kw]` matrix (the stored one, or the table's scatter).
    private func expandedWeight() -> UnsafeMutablePointer<Float> {
        guard let table, let dense = denseWeight else { return weight.data }
        dense.zero()
        let area = geometry.kernelArea, rowLength = geometry.columnRows
        var k = 0
        for (f, maps) in table.enumerated() {
            for c in maps {
                (dense.data + f * rowLength + c * area).update(from: weight.data + k * area, count: area)
                k += 1
            }
        }
        return dense.data
    }

    /// Adds the connected kernels' gradients from the dense gradient into the compact one.
    private func gatherConnections(_ table: [[Int]], from dense: UnsafePointer<Float>, into compact: UnsafeMutablePointer<Float>) {
        let area = geometry.kernelArea, rowLength = geometry.columnRows
        var k = 0
        for (f, maps) in table.enumerated() {
            for c in maps {
                for i in 0..<area { compact[k * area + i] += dense[f * rowLength + c * area + i] }
                k += 1
            }
        }
    }

    public static let registration = LayerRegistration(
        type: "conv2d", summary: "2-D convolution (groups, depthwise, dilation, padding modes, connection tables)",
        example: LayerExample(["filters": 4, "kernel": [3, 2], "stride": 2, "padding": [1, 0, 1, 1],
                               "padding_mode": "reflect", "groups": 1], inputs: [[3, 5, 6]])
    ) { context in try Conv2D(context.decode(Config.self), context: &context) }
}
