import CNNCore
import CNNAVX512

/// 2-D convolution (cross-correlation, as in every framework):
/// `y[n, f, oh, ow] = b[f] + Σ_{c ∈ group(f), i, j} w[f, c, i, j] · x[n, c, oh·S − P + i·D, ow·S − P + j·D]`.
///
/// `x: [N, C, H, W] → y: [N, F, H′, W′]`, `H′ = floor((H − D·(kh − 1) − 1 + P_top + P_bottom)/S) + 1`.
/// Weights `[F, C/groups, kh, kw]` (PyTorch layout), PyTorch's default init U(±1/√fan_in).
/// Lowering: per image im2col + one sgemm per group (Caffe); 1x1/stride 1/no padding reads the
/// input directly; groups == channels uses the direct depthwise kernel. On AVX-512 CPUs
/// stride-1 convolutions (depthwise ones too) and stride-2 dense ones run without lowering, on
/// zero-padded planes or their phases (`DirectConvPlan`): forward, input gradient (the same
/// kernel with flipped weights; per phase for stride 2, `PhaseInputGradient`) and weight gradient.
/// 3x3 stride-1 convolutions with enough channels run Winograd F(4×4, 3×3) from 8 images
/// (`Conv2D+Winograd.swift`); smaller batches take the path above.
///
/// A connection table (LeNet-5's C3, LeCun et al. 1998, Table I) lists for each output map the
/// input maps it sees; the weight then holds only those kernels, `[connections, kh, kw]`, and is
/// scattered into a dense masked `[F, C, kh, kw]` matrix for the sgemm.
public final class Conv2D: ActivationFusing {
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
    /// The direct kernels' plans for the forward pass and the input gradient (AVX-512 only): a
    /// stride-1 plan on the padded dY, or the stride-2 input gradient's phases.
    let padded: DirectConvPlan?, paddedInputGradient: DirectConvPlan?, phaseInputGradient: PhaseInputGradient?
    /// `padded.spreadInputGradientShift`, worked out once (it builds a plan, and a plan allocates).
    let spreadShift: Int?
    /// Winograd F(4×4, 3×3) for 3x3 stride-1 convolutions with enough channels
    /// (`Conv2D+Winograd.swift`), and the plan of its input gradient, run from
    /// `winogradMinimumBatch` images (below, such a layer takes the direct or lowered path).
    let winograd: WinogradPlan?, winogradInputGradient: WinogradPlan?
    var winogradMinimumBatch = Conv2D.defaultWinogradMinimumBatch
    /// The forward of a stride-2 depthwise convolution on its input's phases (AVX-512 only; its
    /// backward keeps the depthwise loops).
    let phaseDepthwise: PhaseDepthwisePlan?

    var weight: Tensor!, bias: Tensor?
    var weightGrad: Tensor!, biasGrad: Tensor?
    /// Dense `[F, C, kh, kw]` weights and their gradient when a connection table is used.
    private var denseWeight: Tensor?, denseWeightGrad: Tensor?
    /// The weights in the direct kernels' register-block order, repacked on every call.
    private let packedWeight: Tensor?, packedFlippedWeight: Tensor?
    /// Winograd's transformed kernels `U` and those of its input gradient, made on every call.
    private let winogradWeight: Tensor?, winogradFlippedWeight: Tensor?

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
        winograd = Self.winogradPlan(g, filters: filters, groups: groups, mode: c.padding_mode ?? .zeros)
        winogradInputGradient = winograd?.inputGradientPlan
        let plan = Self.directPlan(g, filters: filters, groups: groups, depthwise: depthwise != nil,
                                   mode: c.padding_mode ?? .zeros)
        padded = plan
        paddedInputGradient = plan?.inputGradientPlan
        phaseInputGradient = plan.flatMap { $0.stride == 2 ? PhaseInputGradient($0) : nil }
        spreadShift = plan?.spreadInputGradientShift
        phaseDepthwise = depthwise == nil ? nil : Self.phasePlan(g, filters: filters, mode: c.padding_mode ?? .zeros)
        winogradWeight = winograd.map { Tensor(shape: [$0.weightFloats]) }
        winogradFlippedWeight = winogradInputGradient.map { Tensor(shape: [$0.weightFloats]) }
        if depthwise == nil {
            packedWeight = plan.map { Tensor(shape: [$0.kernel.packedWeightFloats]) }
            let flipped = paddedInputGradient?.kernel.packedWeightFloats ?? phaseInputGradient?.packedWeightFloats
            packedFlippedWeight = flipped.map { Tensor(shape: [$0]) }
        } else {
            packedWeight = nil
            packedFlippedWeight = plan.map { Tensor(shape: [$0.channels * $0.kernelArea]) }
        }
    }

    /// The direct plan where it applies: AVX-512, no dilation, zero padding, and either one group
    /// and a kernel larger than 1x1 with stride 2, or stride 1 with padding of at most `k − 1` per
    /// side and either one group and a kernel larger than 1x1 or a depthwise convolution with one
    /// filter per channel. 1x1 convolutions need no lowering at stride 1; at stride 2 (ResNet's
    /// projection shortcuts) the direct kernels measured no faster: forward 0.26–0.28 against
    /// 0.18 ms per ResNet-20 step, backward 0.47–0.52 against 0.56–0.71.
    ///
    /// Except where the lowered product is long and the direct kernel wastes much: measured on
    /// this machine (2 threads), the direct kernels beat im2col + sgemm on every LeNet-5 and
    /// ResNet-20 layer and on VGG's 32x32 and 16x16 layers, but lose on its 8x8 layers with 128
    /// and 256 channels (backward 20 against 15 and 38 against 30 ms per training step, forward
    /// equal), where a fifth of the computed positions are padding columns while sgemm runs near
    /// its peak with `K = C·kh·kw ≥ 1,152`.
    static func directPlan(_ g: WindowGeometry, filters: Int, groups: Int, depthwise: Bool,
                           mode: PaddingMode) -> DirectConvPlan? {
        guard CPUFeatures.avx512Kernels, mode == .zeros, g.strideH == g.strideW, g.dilationH == 1, g.dilationW == 1
        else { return nil }
        switch g.strideH {
        case 1: guard depthwise ? filters == g.channels : groups == 1 && g.kernelArea > 1 else { return nil }
        case 2: guard groups == 1 && g.kernelArea > 1 else { return nil }
        default: return nil
        }
        let plan = DirectConvPlan(channels: g.channels, height: g.height, width: g.width, filters: filters,
                                  kernelH: g.kernelH, kernelW: g.kernelW, stride: g.strideH, padTop: g.padTop,
                                  padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight)
        guard depthwise || plan.usefulFraction >= 0.85 || g.columnRows < 1_024 else { return nil }
        return plan.stride == 2 || plan.inputGradientPlan != nil ? plan : nil
    }

    /// Stride-2 depthwise convolutions (one filter per channel, zero padding, no dilation).
    static func phasePlan(_ g: WindowGeometry, filters: Int, mode: PaddingMode) -> PhaseDepthwisePlan? {
        guard CPUFeatures.avx512Kernels, mode == .zeros, filters == g.channels, g.strideH == 2, g.strideW == 2,
              g.dilationH == 1, g.dilationW == 1 else { return nil }
        return PhaseDepthwisePlan(channels: g.channels, height: g.height, width: g.width, kernelH: g.kernelH,
                                  kernelW: g.kernelW, padTop: g.padTop, padBottom: g.padBottom,
                                  padLeft: g.padLeft, padRight: g.padRight)
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

    /// A pointwise convolution over 1x1 planes (squeeze-and-excitation's) is a dense layer over
    /// the batch: its forward is one product `Y[N, F] = X[N, C] · Wᵀ`, not one matrix-vector
    /// product per image, which OpenBLAS 0.3.21's SkylakeX small-matrix kernel also answers with a
    /// malloc for some shapes (measured: F = 4, 6, 8, 10 or 20 filters over 32 to 480 channels).
    var isBatchedPointwise: Bool { isPointwise && groups == 1 && geometry.outArea == 1 }

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

    /// Images lowered together into one column matrix: per-image products of small images are
    /// too thin for sgemm (LeNet conv1 is 6×784×25), so a chunk's columns side by side make one
    /// large product per group. Chunks are capped so the workspace stays near 4 MB (cache-resident).
    /// Forward lowers images of at least `directArea` output positions one at a time: the product
    /// is wide enough and writes Y in place, with no staging copy. Backward keeps the chunks: the
    /// weight gradient's reduction over positions is too short per image (measured: ResNet-20's
    /// 32x32 layers, forward 15% faster per image, backward 13% slower).
    static let workspaceFloats = 1 << 20
    static let directArea = 256

    func chunkSize(batch: Int, forward: Bool = false) -> Int {
        let g = geometry
        if forward && g.outArea >= Self.directArea { return 1 }
        return max(1, min(batch, Self.workspaceFloats / ((2 * g.columnRows + filters) * g.outArea)))
    }

    var isLowered: Bool { depthwise == nil && !isPointwise && padded == nil }
    /// A part's private weight and bias gradients (summed after the parts finish).
    var gradientFloats: Int { filters * kernelsPerFilter * geometry.kernelArea + filters }

    /// Floats of one part's workspace: the chunk's column matrix, its gradient and a staging
    /// matrix `[F, chunk·OH·OW]` (lowered convolutions; direct ones: `paddedWorkspace`), then
    /// the private gradients.
    func partWorkspace(batch: Int) -> Int {
        let winogradFloats = winograd.map { winogradWorkspace($0, batch: batch) } ?? 0
        if let padded { return max(winogradFloats, paddedWorkspace(padded, batch: batch)) + gradientFloats }
        if let phaseDepthwise { return phaseDepthwise.phaseFloats + phaseDepthwise.stageFloats + gradientFloats }
        let lowering = isLowered ? (2 * geometry.columnRows + filters) * chunkSize(batch: batch) * geometry.outArea : 0
        return max(winogradFloats, lowering) + gradientFloats
    }

    /// Images whose padded planes and spread gradients go into one weight-gradient call (their
    /// sums then leave the registers once), capped like the lowered chunks.
    func paddedChunk(_ plan: DirectConvPlan, batch: Int) -> Int {
        max(1, min(batch, Self.workspaceFloats / ((plan.planes + plan.filters) * plan.planeStride)))
    }

    /// Forward: one padded image and its stage. Backward: a chunk's padded images and spread
    /// gradients, then one image's padded gradient and stage for the input gradient. Padded
    /// images and stages get the depthwise kernel's slack.
    func paddedWorkspace(_ plan: DirectConvPlan, batch: Int) -> Int {
        let chunk = paddedChunk(plan, batch: batch), slack = 2 * DirectConvPlan.depthwiseSlack
        let inputGradient = paddedInputGradient.map { $0.paddedFloats(images: 1) + $0.kernel.stageFloats + slack }
            ?? phaseInputGradient?.workspaceFloats ?? 0
        return max(plan.paddedFloats(images: 1) + plan.kernel.stageFloats + slack,
                   plan.paddedFloats(images: chunk) + plan.spreadFloats(images: chunk) + inputGradient)
    }

    /// The stride-1 direct and the Winograd input gradients write every element of dX once, so
    /// they may overwrite them.
    public var canOverwriteInputGradient: Bool { paddedInputGradient != nil || winograd != nil }

    /// Every part of the worker pool gets its own slice.
    public func workspaceSize(batch: Int) -> Int { WorkerPool.maxParts * partWorkspace(batch: batch) }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
        if hasBias { bias = parameters[1]; biasGrad = gradients[1] }
    }

    // MARK: - Forward

    /// The batch is split between the worker pool's parts; each lowers and multiplies its own
    /// images in its own workspace slice.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, scale: nil, shift: nil, epilogue: nil, context: &context)
    }

    public func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, scale: nil, shift: nil, epilogue: epilogue, context: &context)
    }

    /// Inference with a following batch norm folded in: `y = scale[f]·(conv + b[f]) + shift[f]`,
    /// then the activation that follows it, if any, applied by each part to each image right after
    /// its product, so neither needs a node, buffer or thread hand-off of its own.
    public func forward(inputs: [Tensor], output: Tensor, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                        epilogue: Activation?, context: inout ExecutionContext) {
        let n = inputs[0].shape[0]
        var weight = expandedWeight()
        let winograd = winogradPlan(batch: n)
        if let winograd, let transformed = winogradWeight?.data {
            winograd.transformWeights(weight, flipped: false, into: transformed)
            weight = transformed
        } else if let padded, let packed = packedWeight?.data {
            padded.pack(weights: weight, flipped: false, into: packed)
            weight = packed
        }
        let parts = ForwardParts(layer: self, x: inputs[0].data, y: output.data, weight: weight,
                                 workspace: context.workspace, batch: n, parts: min(WorkerPool.shared.parts, n),
                                 winograd: winograd, scale: scale, shift: shift, epilogue: epilogue)
        if isBatchedPointwise {
            gemm(transB: true, m: n, n: filters, k: geometry.channels, a: parts.x, b: weight, c: parts.y)
            finish(parts, images: 0..<n)
        } else {
            WorkerPool.shared.run(parts)
        }
    }

    /// One forward call's arguments, for the worker pool.
    struct ForwardParts: PartitionedWork {
        let layer: Conv2D, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
        let weight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, batch: Int, parts: Int
        let winograd: WinogradPlan?
        let scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, epilogue: Activation?

        func run(part: Int) { if part < parts { layer.forward(self, part: part) } }
    }

    private func forward(_ a: ForwardParts, part: Int) {
        let images = WorkerPool.share(a.batch, part: part, of: a.parts)
        let workspace = a.workspace + part * partWorkspace(batch: a.batch)
        if let winograd = a.winograd {
            forwardWinograd(a, plan: winograd, images: images, workspace: workspace)
        } else if let padded {
            forwardPadded(a, plan: padded, images: images, workspace: workspace)
        } else if isLowered {
            forwardLowered(a, images: images, workspace: workspace)
        } else {
            forwardDirect(a, images: images, workspace: workspace)
        }
    }

    /// Bias and the folded batch norm as one affine map per filter,
    /// `scale[f]·(y + b[f]) + shift[f] = scale[f]·y + (scale[f]·b[f] + shift[f])`, then the
    /// epilogue, on images whose product has just been written (still in cache).
    func finish(_ a: ForwardParts, images: Range<Int>) {
        let area = geometry.outArea, outSize = filters * area
        for b in images {
            let yb = a.y + b * outSize
            if bias != nil || a.scale != nil {
                for f in 0..<filters {
                    let s = a.scale?[f] ?? 1, c = (bias?.data[f] ?? 0) * s + (a.shift?[f] ?? 0), row = yb + f * area
                    for p in 0..<area { row[p] = row[p] * s + c }
                }
            }
            a.epilogue?.apply(yb, outSize)
        }
    }

    /// Depthwise and pointwise convolutions read the input directly, one image at a time
    /// (stride-2 depthwise ones on AVX-512 through their input's phases, `PhaseDepthwisePlan`).
    private func forwardDirect(_ a: ForwardParts, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let (x, y, w) = (a.x, a.y, a.weight)
        let g = geometry, inSize = g.channels * g.height * g.width, outSize = filters * g.outArea
        for b in images {
            let xb = x + b * inSize, yb = y + b * outSize
            if let plan = phaseDepthwise {
                let stage = workspace + plan.phaseFloats
                plan.deinterleave(xb, into: workspace)
                plan.forward(phases: workspace, weight: w, stage: stage)
                plan.scatter(stage, into: yb)
            } else if let depthwise {
                depthwise.forward(x: xb, weight: w, y: yb)
            } else {
                let (mg, kg) = (filters / groups, kernelsPerFilter)
                for gr in 0..<groups {
                    gemm(m: mg, n: g.outArea, k: kg, a: w + gr * mg * kg, b: xb + gr * kg * g.outArea,
                         c: yb + gr * mg * g.outArea)
                }
            }
            finish(a, images: b..<b + 1)
        }
    }

    /// Each image padded, convolved into the stage and scattered into Y (weights packed).
    private func forwardPadded(_ a: ForwardParts, plan: DirectConvPlan, images: Range<Int>,
                               workspace: UnsafeMutablePointer<Float>) {
        let g = geometry, inSize = g.channels * g.height * g.width, outSize = filters * g.outArea
        let xp = workspace, stage = workspace + plan.paddedFloats(images: 1) + DirectConvPlan.depthwiseSlack
        for b in images {
            plan.pad(a.x + b * inSize, images: 1, into: xp)
            if depthwise != nil {
                plan.depthwiseForward(padded: xp, weight: a.weight, stage: stage)
            } else {
                plan.kernel.forward(input: xp, packed: a.weight, stage: stage)
            }
            plan.scatter(stage, into: a.y + b * outSize, adding: false)
            finish(a, images: b..<b + 1)
        }
    }

    /// im2col of a chunk of images side by side, one sgemm per group into a staging matrix
    /// `[F, m·OH·OW]`, then a scatter into the NCHW output.
    private func forwardLowered(_ a: ForwardParts, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let (x, y, w) = (a.x, a.y, a.weight)
        let g = geometry, area = g.outArea, chunk = chunkSize(batch: images.count, forward: true)
        let inSize = g.channels * g.height * g.width, outSize = filters * area
        let (mg, kg) = (filters / groups, kernelsPerFilter * g.kernelArea)
        let col = workspace, stage = workspace + 2 * g.columnRows * chunk * area
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0), cols = m * area
            for i in 0..<m { lowering.lower(x + (b0 + i) * inSize, into: col + i * area, rowStride: cols) }
            // One image: the product lands in the output itself.
            let target = chunk == 1 ? y + b0 * outSize : stage
            for gr in 0..<groups {
                gemm(m: mg, n: cols, k: kg, a: w + gr * mg * kg, b: col + gr * kg * cols, c: target + gr * mg * cols)
            }
            if chunk > 1 {
                for i in 0..<m {
                    for f in 0..<filters {
                        (y + (b0 + i) * outSize + f * area).update(from: stage + f * cols + i * area, count: area)
                    }
                }
            }
            finish(a, images: b0..<b0 + m)
        }
    }

    // MARK: - Backward

    /// Each part back-propagates its own images into private weight and bias gradients, which are
    /// then added to the layer's (one part adds directly).
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let n = inputs[0].shape[0], dw = denseWeightGrad?.data ?? weightGrad.data, db = biasGrad?.data
        denseWeightGrad?.zero()
        let parts = min(WorkerPool.shared.parts, n), workspace = context.workspace, slice = partWorkspace(batch: n)
        let weightCount = gradientFloats - filters
        var weight = expandedWeight()
        let winograd = winogradPlan(batch: n)
        if inputGradients[0] != nil, winograd != nil, let back = winogradInputGradient,
           let transformed = winogradFlippedWeight?.data {
            back.transformWeights(weight, flipped: true, into: transformed)
            weight = transformed
        } else if inputGradients[0] != nil, let packed = packedFlippedWeight?.data {
            if let plan = paddedInputGradient {
                if depthwise != nil {
                    plan.flipDepthwise(weight, into: packed)
                } else {
                    plan.pack(weights: weight, flipped: true, into: packed)
                }
            } else if let phases = phaseInputGradient {
                phases.pack(weights: weight, into: packed)
            }
            weight = packed
        }
        WorkerPool.shared.run(BackwardParts(layer: self, x: inputs[0].data, dy: outputGradient.data,
                                            dx: inputGradients[0]?.data, overwriting: context.overwritesInputGradient,
                                            winograd: winograd, weight: weight, weightGrad: dw, biasGrad: db, workspace: workspace,
                                            batch: n, parts: parts))
        if parts > 1 {
            for part in 0..<parts {
                let own = workspace + part * slice + slice - gradientFloats
                for i in 0..<weightCount { dw[i] += own[i] }
                if let db { for f in 0..<filters { db[f] += own[weightCount + f] } }
            }
        }
        if let table, let dense = denseWeightGrad { gatherConnections(table, from: dense.data, into: weightGrad.data) }
    }

    /// One backward call's arguments, for the worker pool.
    struct BackwardParts: PartitionedWork {
        let layer: Conv2D, x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>
        let dx: UnsafeMutablePointer<Float>?, overwriting: Bool, winograd: WinogradPlan?
        let weight: UnsafeMutablePointer<Float>
        let weightGrad: UnsafeMutablePointer<Float>, biasGrad: UnsafeMutablePointer<Float>?
        let workspace: UnsafeMutablePointer<Float>, batch: Int, parts: Int

        func run(part: Int) { if part < parts { layer.backward(self, part: part) } }
    }

    /// Part `part`'s images, into its private gradients (the layer's own with one part).
    private func backward(_ a: BackwardParts, part: Int) {
        let images = WorkerPool.share(a.batch, part: part, of: a.parts), slice = partWorkspace(batch: a.batch)
        let ws = a.workspace + part * slice, own = ws + slice - gradientFloats, weightCount = gradientFloats - filters
        let (dw, db) = a.parts == 1 ? (a.weightGrad, a.biasGrad) : (own, a.biasGrad == nil ? nil : own + weightCount)
        if a.parts > 1 { own.update(repeating: 0, count: gradientFloats) }
        if let winograd = a.winograd {
            backwardWinograd(a, plan: winograd, images: images, weightGrad: dw, biasGrad: db, workspace: ws)
        } else if let padded {
            backwardPadded(a, plan: padded, images: images, weightGrad: dw, biasGrad: db, workspace: ws)
        } else if isLowered {
            backwardLowered(x: a.x, dy: a.dy, dx: a.dx, overwriting: a.overwriting, images: images, weight: a.weight,
                            weightGrad: dw, biasGrad: db, workspace: ws)
        } else {
            backwardDirect(x: a.x, dy: a.dy, dx: a.dx, images: images, weight: a.weight, weightGrad: dw, biasGrad: db)
        }
    }

    /// Per chunk: the images padded and their gradients spread for the weight gradient; then per
    /// image the input gradient as a forward pass of the padded dY with the flipped weights
    /// (`a.weight` holds them packed; stride 2: one pass per phase), added into dX. Where the
    /// output has the input's size, the spread dY already is the padded one, a row and a column
    /// further on (`spreadInputGradientShift`); the few zeros before the first image's are written
    /// into the end of the padded images' region, which this chunk's weight gradient has read.
    private func backwardPadded(_ a: BackwardParts, plan: DirectConvPlan, images: Range<Int>,
                                weightGrad dw: UnsafeMutablePointer<Float>, biasGrad db: UnsafeMutablePointer<Float>?,
                                workspace: UnsafeMutablePointer<Float>) {
        let g = geometry, area = g.outArea, inSize = g.channels * g.height * g.width, outSize = filters * area
        let chunk = paddedChunk(plan, batch: a.batch)
        let xp = workspace, dys = xp + plan.paddedFloats(images: chunk), dyp = dys + plan.spreadFloats(images: chunk)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            if let db {
                for b in b0..<b0 + m { Self.addRowSums(a.dy + b * outSize, rows: filters, length: area, stride: area, into: db) }
            }
            plan.pad(a.x + b0 * inSize, images: m, into: xp)
            plan.spread(a.dy + b0 * outSize, images: m, into: dys)
            if depthwise != nil {
                plan.depthwiseWeightGradient(padded: xp, spread: dys, images: m, into: dw)
            } else {
                plan.weightGradient(padded: xp, spread: dys, images: m, into: dw)
            }
            guard let dx = a.dx else { continue }
            if let phases = phaseInputGradient {
                for b in b0..<b0 + m { phases.addGradient(dy: a.dy + b * outSize, packed: a.weight, into: dx + b * inSize, workspace: dyp) }
                continue
            }
            guard let back = paddedInputGradient else { continue }
            let stage = dyp + back.paddedFloats(images: 1) + DirectConvPlan.depthwiseSlack
            let shift = spreadShift
            if let shift { (dys - shift).update(repeating: 0, count: shift) }
            for b in b0..<b0 + m {
                let input: UnsafeMutablePointer<Float>
                if let shift {
                    input = dys + (b - b0) * filters * plan.planeStride - shift
                } else {
                    back.pad(a.dy + b * outSize, images: 1, into: dyp)
                    input = dyp
                }
                if depthwise != nil {
                    back.depthwiseForward(padded: input, weight: a.weight, stage: stage)
                } else {
                    back.kernel.forward(input: input, packed: a.weight, stage: stage)
                }
                back.scatter(stage, into: dx + b * inSize, adding: !a.overwriting)
            }
        }
    }

    /// Depthwise and pointwise convolutions, one image at a time (no lowering needed).
    private func backwardDirect(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                images: Range<Int>, weight w: UnsafePointer<Float>,
                                weightGrad dw: UnsafeMutablePointer<Float>, biasGrad db: UnsafeMutablePointer<Float>?) {
        let g = geometry, area = g.outArea, inSize = g.channels * g.height * g.width, outSize = filters * area
        let (mg, kg) = (filters / groups, kernelsPerFilter)
        for b in images {
            let xb = x + b * inSize, dyb = dy + b * outSize
            if let db { Self.addRowSums(dyb, rows: filters, length: area, stride: area, into: db) }
            if let depthwise {
                depthwise.backward(x: xb, weight: w, dy: dyb, dx: dx.map { $0 + b * inSize }, dw: dw)
                continue
            }
            for gr in 0..<groups {
                // dW[g] += dY[g] · X[g]ᵀ; dX[g] += W[g]ᵀ · dY[g]
                gemm(transB: true, m: mg, n: kg, k: area, a: dyb + gr * mg * area, b: xb + gr * kg * area,
                     beta: 1, c: dw + gr * mg * kg)
                if let dx {
                    gemm(transA: true, m: kg, n: area, k: mg, a: w + gr * mg * kg, b: dyb + gr * mg * area,
                         beta: 1, c: dx + b * inSize + gr * kg * area)
                }
            }
        }
    }

    /// Gathers a chunk's dY into `[F, m·OH·OW]`, then per group dW += dY·colᵀ and dcol = Wᵀ·dY,
    /// and col2im of each image's block of dcol (into zeros when `overwriting`: a Winograd
    /// layer's small batches come here).
    private func backwardLowered(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                 overwriting: Bool, images: Range<Int>, weight w: UnsafePointer<Float>,
                                 weightGrad dw: UnsafeMutablePointer<Float>, biasGrad db: UnsafeMutablePointer<Float>?,
                                 workspace: UnsafeMutablePointer<Float>) {
        let g = geometry, area = g.outArea, chunk = chunkSize(batch: images.count)
        let inSize = g.channels * g.height * g.width, outSize = filters * area
        let (mg, kg) = (filters / groups, kernelsPerFilter * g.kernelArea)
        let col = workspace, dcol = workspace + g.columnRows * chunk * area
        let stage = workspace + 2 * g.columnRows * chunk * area
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0), cols = m * area
            for i in 0..<m {
                for f in 0..<filters {
                    (stage + f * cols + i * area).update(from: dy + (b0 + i) * outSize + f * area, count: area)
                }
            }
            if let db { Self.addRowSums(stage, rows: filters, length: cols, stride: cols, into: db) }
            for i in 0..<m { lowering.lower(x + (b0 + i) * inSize, into: col + i * area, rowStride: cols) }
            for gr in 0..<groups {
                gemm(transB: true, m: mg, n: kg, k: cols, a: stage + gr * mg * cols, b: col + gr * kg * cols,
                     beta: 1, c: dw + gr * mg * kg)
            }
            guard let dx else { continue }
            for gr in 0..<groups {
                gemm(transA: true, m: kg, n: cols, k: mg, a: w + gr * mg * kg, b: stage + gr * mg * cols,
                     c: dcol + gr * kg * cols)
            }
            if overwriting { (dx + b0 * inSize).update(repeating: 0, count: m * inSize) }
            for i in 0..<m { lowering.accumulate(dcol + i * area, into: dx + (b0 + i) * inSize, rowStride: cols) }
        }
    }

    /// `sums[r] += Σ row r` for `rows` rows of `length` floats, `stride` apart.
    static func addRowSums(_ a: UnsafePointer<Float>, rows: Int, length: Int, stride: Int,
                                   into sums: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var s: Float = 0
            let row = a + r * stride
            for i in 0..<length { s += row[i] }
            sums[r] += s
        }
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
