import CNNCore

/// Batch normalization (Ioffe & Szegedy 2015; PyTorch `nn.BatchNorm1d`/`nn.BatchNorm2d`):
/// `y = γ · (x − μ) / √(σ² + ε) + β` per channel. In training μ and the biased σ² are taken over
/// the batch and every position sharing the channel (`M` values); in inference the running
/// estimates are used. Running estimates follow PyTorch's convention
/// `running = (1 − momentum) · running + momentum · batch`, with the unbiased variance
/// `σ² · M / (M − 1)` for `running_var`.
///
/// `x: [N, C, H, W] → y: [N, C, H, W]` (BatchNorm2d; channels first, any number of spatial dims),
/// `x: [N, F] → y: [N, F]` and `x: [N, T, F] → y: [N, T, F]` (BatchNorm1d; a sequence normalises
/// each feature over all `N·T` steps, since features come last here).
/// Parameters (PyTorch order and init): `weight` [C] = 1 and `bias` [C] = 0 when `affine`,
/// then `running_mean` [C] = 0 and `running_var` [C] = 1.
public final class BatchNorm: ConfiguredLayer, ActivationFusing, InferenceAffine {
    public struct Config: Decodable, Sendable {
        var momentum: Float?
        var eps: Float?
        var affine: Bool?

        public init(momentum: Float? = nil, eps: Float? = nil, affine: Bool? = nil) {
            self.momentum = momentum
            self.eps = eps
            self.affine = affine
        }
    }

    public let name: String
    public static let typeName = "batchnorm"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int
    /// Each sample is laid out `[outer, channels, inner]`: `[1, C, H·W]` for images,
    /// `[T, F, 1]` for sequences, `[1, F, 1]` for vectors.
    let outer: Int, inner: Int
    let momentum: Float, eps: Float
    /// γ and β per channel.
    private let affine: NormAffine
    var runningMean: Tensor!, runningVar: Tensor!
    /// Whether the last forward's statistics (its saved state: llm.c keeps mean and rstd for
    /// backward) came from the batch, which decides the backward formula.
    private(set) var usedBatchStatistics = false
    /// Double accumulators per channel, so large batches do not lose precision: two, and a third
    /// for synchronized statistics.
    let sums: UnsafeMutablePointer<Double>
    /// The values per channel the last training forward normalized over: the batch's, or, with
    /// synchronized statistics, all processes' (`BatchNormSync.swift`).
    var normalizedCount = 0.0

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank >= 1 else { throw context.error("expects a non-scalar input, got \(s)") }
        let momentum = c.momentum ?? 0.1, eps = c.eps ?? 1e-5
        guard momentum >= 0, momentum <= 1 else {
            throw context.error("must be in [0, 1], got \(momentum)", key: "momentum")
        }
        guard eps > 0 else { throw context.error("must be > 0, got \(eps)", key: "eps") }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        switch s.rank {
        case 1: (outer, channels, inner) = (1, s[0], 1)
        case 2: (outer, channels, inner) = (s[0], s[1], 1)
        default: (outer, channels, inner) = (1, s[0], s.count / s[0])
        }
        self.momentum = momentum
        self.eps = eps
        affine = NormAffine([channels], enabled: c.affine)
        sums = .allocate(capacity: 3 * channels)
    }

    deinit { sums.deallocate() }

    public var parameterSpecs: [ParameterSpec] {
        let c: Shape = [channels]
        var specs = affine.specs
        let stat = ParameterRole.runningStatistic
        specs.append(ParameterSpec("running_mean", c, role: stat, initializer: .constant(0)))
        specs.append(ParameterSpec("running_var", c, role: stat, initializer: .constant(1)))
        return specs
    }

    /// torchinfo counts a norm layer's trainable parameters once: `2C` with affine, else 0.
    public var macs: Int { parameterSpecs.filter(\.isTrainable).reduce(0) { $0 + $1.shape.count } }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        let k = affine.bind(parameters: parameters, gradients: gradients)
        runningMean = parameters[k]; runningVar = parameters[k + 1]
    }

    /// Calls `body(channel, offset)` for every contiguous run of `inner` values of the channels in
    /// `range`, in memory order.
    @inline(__always)
    private func forEachRun(rows: Int, channels range: Range<Int>, _ body: (Int, Int) -> Void) {
        for r in 0..<rows {
            for c in range { body(c, (r * channels + c) * inner) }
        }
    }

    /// Inference batch norm as one affine map per channel, `y = scale·x + shift` with
    /// `scale = γ/√(running_var + ε)` and `shift = β − running_mean·scale`: what a preceding
    /// convolution folds into its output pass (`InferenceAffine`), over channel-first images.
    public var affineChannels: Int? { outer == 1 && outputShape.rank >= 2 ? channels : nil }

    public func inferenceAffine(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            let s = (affine.weight?.data[c] ?? 1) / (runningVar.data[c] + eps).squareRoot()
            scale[c] = s
            shift[c] = (affine.bias?.data[c] ?? 0) - runningMean.data[c] * s
        }
    }

    /// μ and rstd of each channel, from the batch in training and from the running estimates in
    /// inference: `[μ_0 … μ_C−1, rstd_0 … rstd_C−1]`.
    public func savedStateFloats(batch: Int) -> Int { 2 * channels }

    /// Channels are independent, so they are split between the worker pool's parts.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, epilogue: nil, context: context)
    }

    public func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext) {
        forward(inputs: inputs, output: output, epilogue: epilogue, context: context)
    }

    private func forward(inputs: [Tensor], output: Tensor, epilogue: Activation?, context: ExecutionContext) {
        let rows = inputs[0].shape[0] * outer, training = context.isTraining
        var phase = Phase.all
        if training, let reducer = context.statisticsReducer {
            synchronizeStatistics(x: inputs[0].data, rows: rows, statistics: statistics(context), reducer: reducer,
                                  pool: context.pool)
            phase = .normalizeOnly
        } else if training {
            normalizedCount = Double(rows * inner)
        }
        context.pool.forEachRange(channels, itemSize: rows * inner,
                                  Forward(layer: self, x: inputs[0].data, y: output.data, rows: rows,
                                          statistics: statistics(context), training: training, epilogue: epilogue,
                                          phase: phase))
        usedBatchStatistics = training
    }

    /// Which part of a pass over the channels a work item does: all of it, or the part before or
    /// after the processes' statistics are summed (`BatchNormSync.swift`).
    enum Phase { case all, sumsOnly, normalizeOnly }

    /// μ and rstd per channel, in the saved state.
    func statistics(_ context: ExecutionContext) -> Statistics {
        let p = context.saved.floats(count: 2 * channels)
        return Statistics(mean: p, rstd: p + channels)
    }

    struct Statistics {
        let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    }

    struct Forward: RangeWork {
        let layer: BatchNorm, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int
        let statistics: Statistics
        let training: Bool, epilogue: Activation?, phase: Phase
        func run(_ range: Range<Int>) {
            layer.forward(channels: range, x: x, y: y, rows: rows, statistics: statistics, training: training,
                          epilogue: epilogue, phase: phase)
        }
    }

    private func forward(channels range: Range<Int>, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                         rows: Int, statistics: Statistics,
                         training: Bool, epilogue: Activation?, phase: Phase) {
        let (m, s, inner) = (statistics.mean, statistics.rstd, inner)
        if phase == .normalizeOnly {
            // The statistics are all processes', already in place.
        } else if training {
            localMoments(x, rows: rows, channels: range)
            for c in range {
                (statistics.mean[c], statistics.rstd[c]) = Self.finish(
                    mean: sums[c], variance: sums[channels + c] / Double(rows * inner), count: Double(rows * inner),
                    eps: eps, momentum: momentum, runningMean: &runningMean.data[c], runningVar: &runningVar.data[c])
            }
        } else {
            for c in range {
                m[c] = runningMean.data[c]
                s[c] = 1 / (runningVar.data[c] + eps).squareRoot()
            }
        }
        forEachRun(rows: rows, channels: range) { c, off in
            let scale = s[c] * (affine.weight?.data[c] ?? 1), shift = affine.bias?.data[c] ?? 0, mc = m[c]
            for i in off..<off + inner { y[i] = (x[i] - mc) * scale + shift }
            epilogue?.apply(y + off, inner)
        }
    }

    /// Mean and biased variance per channel in one sweep over memory: each run of `inner` values
    /// gets its own mean and squared deviations (two passes over a run still in cache, for
    /// accuracy; sixteen Float lanes, results in Double), and the runs are merged with Chan et
    /// al.'s pairwise update (1979): `δ = μ_b − μ_a`, `μ = μ_a + δ·n_b/n`,
    /// `M2 = M2_a + M2_b + δ²·n_a·n_b/n`. Leaves μ in `sums[c]` and M2 in `sums[C + c]`.
    func localMoments(_ x: UnsafeMutablePointer<Float>, rows: Int, channels range: Range<Int>) {
        let (mu, m2, inner) = (sums, sums + channels, inner)
        let runLength = Double(inner)
        for c in range { mu[c] = 0; m2[c] = 0 }
        for r in 0..<rows {
            let seen = Double(r * inner), total = seen + runLength
            for c in range {
                let run = x + (r * channels + c) * inner
                let runMean = Self.sum(run, inner) { $0 } / runLength, mf = Float(runMean)
                let runM2 = Self.sum(run, inner) { ($0 - mf) * ($0 - mf) }
                let delta = runMean - mu[c]
                mu[c] += delta * runLength / total
                m2[c] += runM2 + delta * delta * seen * runLength / total
            }
        }
    }

    /// Ends one channel's batch statistics (`count` values, biased `variance`): the mean and
    /// 1/√(σ² + ε) to normalize with, and PyTorch's running update
    /// `running = (1 − momentum)·running + momentum·batch`, of the unbiased variance
    /// `σ²·M/(M − 1)` (with a single value it stays the biased one). Also `DenseBottleneck`'s.
    static func finish(mean: Double, variance: Double, count: Double, eps: Float, momentum: Float,
                       runningMean: inout Float, runningVar: inout Float) -> (mean: Float, rstd: Float) {
        let m = Double(momentum), unbiased = count > 1 ? variance * count / (count - 1) : variance
        runningMean = Float((1 - m) * Double(runningMean) + m * mean)
        runningVar = Float((1 - m) * Double(runningVar) + m * unbiased)
        return (Float(mean), Float(1 / (variance + Double(eps)).squareRoot()))
    }

    /// `Σ f(a[i])` over `n` values in sixteen independent Float lanes (so the loop vectorizes;
    /// Swift does not reassociate a scalar sum), returned in Double.
    @inline(__always)
    static func sum(_ a: UnsafePointer<Float>, _ n: Int, _ f: (SIMD16<Float>) -> SIMD16<Float>) -> Double {
        typealias V = SIMD16<Float>
        var lanes = V(), i = 0
        while i + V.scalarCount <= n {
            lanes += f(UnsafeRawPointer(a + i).loadUnaligned(as: V.self))
            i += V.scalarCount
        }
        var total = Double(FastMath.laneSum(lanes))
        while i < n {
            total += Double(f(V(repeating: a[i]))[0])
            i += 1
        }
        return total
    }

    /// `(Σ g[i], Σ g[i]·(x[i] − mean))` in one pass, sixteen Float lanes each, returned in Double.
    /// With `relu`, `g[i]` counts only where the forward's output `(x[i] − mean)·scale + shift`
    /// (computed as the forward did) was positive: the gradient through a fused ReLU.
    @inline(__always)
    static func sums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float,
                     relu: (scale: Float, shift: Float)?) -> (Double, Double) {
        typealias V = SIMD16<Float>
        var (dy, dyx) = (V(), V())
        let mv = V(repeating: mean)
        let (scale, shift) = (V(repeating: relu?.scale ?? 0), V(repeating: relu?.shift ?? 0))
        var i = 0
        while i + V.scalarCount <= n {
            let xc = UnsafeRawPointer(x + i).loadUnaligned(as: V.self) - mv
            var gv = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            if relu != nil { gv.replace(with: 0, where: xc * scale + shift .<= 0) }
            dy += gv
            dyx.addProduct(gv, xc)
            i += V.scalarCount
        }
        var (a, b) = (Double(FastMath.laneSum(dy)), Double(FastMath.laneSum(dyx)))
        while i < n {
            let xc = x[i] - mean
            let gi = relu.map { xc * $0.scale + $0.shift > 0 ? g[i] : 0 } ?? g[i]
            a += Double(gi)
            b += Double(gi * xc)
            i += 1
        }
        return (a, b)
    }

    /// With batch statistics: `dx = γ·rstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))`; with running
    /// statistics (constants): `dx = γ·rstd·dy`. Always `dγ += Σ dy·x̂`, `dβ += Σ dy`.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        backward(inputs: inputs, outputGradient: dy, inputGradients: inputGradients, relu: false, context: context)
    }

    public var canOverwriteInputGradient: Bool { true }

    /// Through a fused ReLU, its derivative is applied as dY is read: the forward's output sign is
    /// recomputed from x (with the forward's arithmetic, so the mask is the same), which both
    /// passes read anyway, instead of a pass over memory that rewrites dY (docs/PERFORMANCE.md).
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor, inputGradients: [Tensor?],
                         through activation: Activation, context: inout ExecutionContext) {
        if activation.function != .relu { activation.backwardInPlace(output: output, gradient: dy, pool: context.pool) }
        backward(inputs: inputs, outputGradient: dy, inputGradients: inputGradients, relu: activation.function == .relu,
                 context: context)
    }

    private func backward(inputs: [Tensor], outputGradient dy: Tensor, inputGradients: [Tensor?], relu: Bool,
                          context: ExecutionContext) {
        let rows = inputs[0].shape[0] * outer
        func pass(_ phase: Phase) {
            context.pool.forEachRange(channels, itemSize: rows * inner,
                                      Backward(layer: self, x: inputs[0].data, g: dy.data, dx: inputGradients[0]?.data,
                                               rows: rows, statistics: statistics(context), relu: relu,
                                               overwriting: context.overwritesInputGradient, phase: phase))
        }
        guard usedBatchStatistics, let reducer = context.statisticsReducer else { return pass(.all) }
        // Σdy and Σdy·x̂ of every process, then dx from them (the affine's gradients stay local:
        // the processes' parameter gradients are summed as a whole).
        pass(.sumsOnly)
        reducer.sum(sums, count: 2 * channels)
        pass(.normalizeOnly)
    }

    struct Backward: RangeWork {
        let layer: BatchNorm, x: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
        let dx: UnsafeMutablePointer<Float>?, rows: Int
        let statistics: Statistics
        let relu: Bool, overwriting: Bool, phase: Phase
        func run(_ range: Range<Int>) {
            layer.backward(channels: range, x: x, g: g, dx: dx, rows: rows, statistics: statistics, relu: relu,
                           overwriting: overwriting, phase: phase)
        }
    }

    private func backward(channels range: Range<Int>, x: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                          dx: UnsafeMutablePointer<Float>?, rows: Int,
                          statistics: Statistics,
                          relu: Bool, overwriting: Bool, phase: Phase) {
        let (m, s, inner) = (statistics.mean, statistics.rstd, inner)
        let (sumDy, sumDyXhat) = (sums, sums + channels)
        let count = Float(normalizedCount), batch = usedBatchStatistics
        // The forward's output is `(x − mean)·scale + shift` (then the ReLU).
        func reluAffine(_ c: Int) -> (scale: Float, shift: Float)? {
            relu ? (s[c] * (affine.weight?.data[c] ?? 1), affine.bias?.data[c] ?? 0) : nil
        }
        if phase != .normalizeOnly {
            for c in range { sumDy[c] = 0; sumDyXhat[c] = 0 }
            forEachRun(rows: rows, channels: range) { c, off in
                let (dy, dyXhat) = Self.sums(g + off, x + off, inner, mean: m[c], relu: reluAffine(c))
                sumDy[c] += dy
                sumDyXhat[c] += dyXhat * Double(s[c])
            }
            if let weightGrad = affine.weightGrad, let biasGrad = affine.biasGrad {
                for c in range {
                    weightGrad.data[c] += Float(sumDyXhat[c])
                    biasGrad.data[c] += Float(sumDy[c])
                }
            }
        }
        guard phase != .sumsOnly, let dx else { return }
        // dX written (the executor zeroed nothing for it) or added into; the loops are unswitched.
        @inline(__always) func put(_ v: Float, _ i: Int) { if overwriting { dx[i] = v } else { dx[i] += v } }
        forEachRun(rows: rows, channels: range) { c, off in
            let mc = m[c], sc = s[c], k = sc * (affine.weight?.data[c] ?? 1)
            let meanDy = batch ? Float(sumDy[c]) / count : 0
            let meanDyXhat = batch ? Float(sumDyXhat[c]) / count : 0
            if let (scale, shift) = reluAffine(c) {
                for i in off..<off + inner {
                    let xc = x[i] - mc, gi = xc * scale + shift > 0 ? g[i] : 0
                    put(k * (gi - meanDy - xc * sc * meanDyXhat), i)
                }
            } else {
                for i in off..<off + inner {
                    put(k * (g[i] - meanDy - (x[i] - mc) * sc * meanDyXhat), i)
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        BatchNorm.self,
        summary: "batch normalization over channels ([C, H, W]) or features ([F], [T, F])",
        keys: [
            ConfigKey("momentum", "number", default: "0.1",
                      "Weight of the batch statistics in the running ones, "
                      + "running = (1 − momentum)·running + momentum·batch, in [0, 1] "
                      + "(PyTorch's; Keras's is 1 − this)."),
            ConfigKey("eps", "number", default: "1e-5",
                      "ε > 0 added to the variance: y = γ·(x − μ)/√(σ² + ε) + β."),
            ConfigKey("affine", "bool", default: "true",
                      "Learns the per-channel scale γ (`weight`) and shift β (`bias`)."),
        ],
        example: LayerExample(["momentum": 0.2, "eps": 1e-4], inputs: [[3, 5, 3]])
    )
}
