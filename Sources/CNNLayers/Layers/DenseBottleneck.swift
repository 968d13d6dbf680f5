import CNNCore

/// DenseNet-BC's bottleneck over the concatenation of all earlier maps of a dense block
/// (Huang et al. 2017, "Densely Connected Convolutional Networks", §3: H_ℓ = BN → ReLU →
/// Conv1x1 → BN → ReLU → Conv3x3 on [x_0, x_1, …, x_ℓ−1]); this layer is the first half,
/// `y = W · ReLU(BN([x_0, …, x_ℓ−1]))`.
///
/// It never materializes the concatenation nor its normalized copy, the two maps that grow with
/// ℓ and make a naive dense block's memory quadratic in its depth: it reads its inputs in place,
/// builds ReLU(BN(·)) in the shared workspace, and rebuilds it there in backward from the saved
/// per-channel statistics: the shared-storage and recomputation scheme of Pleiss et al. 2017,
/// "Memory-Efficient Implementation of DenseNets". The block's own memory is then its new maps
/// and the bottleneck outputs, linear in ℓ.
///
/// `x_j: [N, c_j, H, W] → y: [N, F, H, W]`. Parameters (torchvision's `_DenseLayer` names, so a
/// node named `denselayer1` holds `denselayer1.norm1.weight`): `norm1.weight`, `norm1.bias`,
/// `norm1.running_mean`, `norm1.running_var` [C = Σ c_j], `conv1.weight` [F, C, 1, 1].
/// Batch statistics and running estimates as `BatchNorm`.
public final class DenseBottleneck: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var filters: Int
        var eps: Float?
        var momentum: Float?

        public init(filters: Int, eps: Float? = nil, momentum: Float? = nil) {
            self.filters = filters
            self.eps = eps
            self.momentum = momentum
        }
    }

    public let name: String
    public static let typeName = "dense_bottleneck"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, filters: Int, area: Int
    let eps: Float, momentum: Float
    /// For each concatenated channel: which input holds it, and at which channel there.
    private let source: [(input: Int, channel: Int)]
    private var gamma: Tensor!, beta: Tensor!, runningMean: Tensor!, runningVar: Tensor!, weight: Tensor!
    private var dGamma: Tensor!, dBeta: Tensor!, dWeight: Tensor!
    /// Whether the last forward normalized with the batch's statistics (training).
    private var usedBatchStatistics = false

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let shapes = context.inputShapes
        guard let first = shapes.first, shapes.allSatisfy({ $0.rank == 3 && $0[1] == first[1] && $0[2] == first[2] })
        else { throw context.error("expects maps [C, H, W] of one size, got \(shapes)") }
        guard c.filters >= 1 else { throw context.error("must be ≥ 1, got \(c.filters)", key: "filters") }
        let eps = c.eps ?? 1e-5, momentum = c.momentum ?? 0.1
        guard eps > 0 else { throw context.error("must be > 0, got \(eps)", key: "eps") }
        guard (0...1).contains(momentum) else { throw context.error("must be in [0, 1], got \(momentum)", key: "momentum") }
        name = context.name
        inputShapes = shapes
        filters = c.filters
        area = first[1] * first[2]
        source = shapes.enumerated().flatMap { j, s in (0..<s[0]).map { (j, $0) } }
        channels = source.count
        outputShape = [filters, first[1], first[2]]
        self.eps = eps
        self.momentum = momentum
    }

    public var parameterSpecs: [ParameterSpec] {
        let c: Shape = [channels]
        return [ParameterSpec("norm1.weight", c, role: .normScale, initializer: .constant(1)),
                ParameterSpec("norm1.bias", c, role: .normShift, initializer: .constant(0)),
                ParameterSpec("norm1.running_mean", c, role: .runningStatistic, initializer: .constant(0)),
                ParameterSpec("norm1.running_var", c, role: .runningStatistic, initializer: .constant(1)),
                ParameterSpec("conv1.weight", [filters, channels, 1, 1], role: .weight,
                              initializer: .pytorchDefault(fanIn: channels))]
    }

    /// torchinfo's count for the two modules: the norm's 2C, the convolution's F·C per position.
    public var macs: Int { 2 * channels + filters * channels * area }

    public var details: String? {
        "reads \(inputShapes.count) maps (\(channels) channels) without concatenating them"
    }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        (gamma, beta, runningMean, runningVar, weight) = (parameters[0], parameters[1], parameters[2], parameters[3],
                                                          parameters[4])
        (dGamma, dBeta, dWeight) = (gradients[0], gradients[1], gradients[4])
    }

    /// The mean and 1/√(σ² + ε) per channel, from the batch (training) or the running estimates.
    public func savedStateFloats(batch: Int) -> Int { 2 * channels }

    /// ReLU(BN(x)) and, in backward, its gradient, for the whole batch; then each worker part's
    /// private weight gradient.
    public func workspaceSize(batch: Int) -> Int { 2 * batch * channels * area + WorkerPool.maxParts * filters * channels }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let n = output.shape[0], a = context.workspace, stats = context.saved.floats(count: 2 * channels)
        usedBatchStatistics = context.isTraining
        context.pool.forEachRange(channels, itemSize: n * area,
                                  Normalize(layer: self, inputs: inputs.map(\.data), a: a, batch: n, stats: stats,
                                            computeStatistics: true, training: context.isTraining))
        context.pool.run(Products(layer: self, a: a, dz: nil, y: output.data, dy: nil, privateGradients: nil,
                                  batch: n, parts: min(context.pool.parts, n)))
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let n = dy.shape[0], size = channels * area, stats = context.saved.floats(count: 2 * channels)
        let a = context.workspace, dz = context.workspace + n * size
        context.pool.forEachRange(channels, itemSize: n * area,
                                  Normalize(layer: self, inputs: inputs.map(\.data), a: a, batch: n, stats: stats,
                                            computeStatistics: false, training: usedBatchStatistics))
        let parts = min(context.pool.parts, n), own = dz + n * size, weights = filters * channels
        own.update(repeating: 0, count: parts * weights)
        context.pool.run(Products(layer: self, a: a, dz: dz, y: output.data, dy: dy.data, privateGradients: own,
                                  batch: n, parts: parts))
        let dw = dWeight.data
        for part in 0..<parts { for i in 0..<weights { dw[i] += own[part * weights + i] } }
        context.pool.forEachRange(channels, itemSize: n * area,
                                  NormBackward(layer: self, inputs: inputs.map(\.data),
                                               dx: inputGradients.map { $0?.data }, a: a, dz: dz, batch: n,
                                               stats: stats))
    }

    /// The 1x1 convolution's products over part `part`'s share of the samples, one thread each:
    /// forward `Y_b = W·A_b`; backward `dW += dY_b·A_bᵀ` (into the part's private gradient) and
    /// `dZ_b = Wᵀ·dY_b`.
    private struct Products: PartitionedWork {
        let layer: DenseBottleneck, a: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>?
        let y: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>?
        let privateGradients: UnsafeMutablePointer<Float>?, batch: Int, parts: Int

        func run(part: Int) {
            guard part < parts else { return }
            let l = layer, (f, c, area) = (l.filters, l.channels, l.area), w = l.weight.data
            for b in WorkerPool.share(batch, part: part, of: parts) {
                let ab = a + b * c * area
                guard let dz, let dy, let privateGradients else {
                    gemm(m: f, n: area, k: c, a: w, b: ab, c: y + b * f * area)
                    continue
                }
                let gb = dy + b * f * area
                gemm(transB: true, m: f, n: c, k: area, a: gb, b: ab, beta: 1, c: privateGradients + part * f * c)
                gemm(transA: true, m: c, n: area, k: f, a: w, b: gb, c: dz + b * c * area)
            }
        }
    }

    /// ReLU(BN(x)) of the channels in a range into `a` [N, C, H·W]; first the statistics when
    /// `computeStatistics` (forward: the batch's in training, the running estimates in inference).
    private struct Normalize: RangeWork {
        let layer: DenseBottleneck, inputs: [UnsafeMutablePointer<Float>], a: UnsafeMutablePointer<Float>
        let batch: Int, stats: UnsafeMutablePointer<Float>, computeStatistics: Bool, training: Bool

        func run(_ range: Range<Int>) {
            let l = layer, (area, channels) = (l.area, l.channels)
            for c in range {
                let (j, local) = l.source[c], cj = l.inputShapes[j][0], x = inputs[j]
                func run(_ b: Int) -> UnsafeMutablePointer<Float> { x + (b * cj + local) * area }
                if computeStatistics {
                    if training {
                        let count = Double(batch * area)
                        let mean = (0..<batch).reduce(0.0) { $0 + BatchNorm.sum(run($1), area) { $0 } } / count
                        let mf = Float(mean)
                        let variance = (0..<batch).reduce(0.0) { $0 + BatchNorm.sum(run($1), area) { ($0 - mf) * ($0 - mf) } }
                            / count
                        (stats[c], stats[channels + c]) = BatchNorm.finish(
                            mean: mean, variance: variance, count: count, eps: l.eps, momentum: l.momentum,
                            runningMean: &l.runningMean.data[c], runningVar: &l.runningVar.data[c])
                    } else {
                        stats[c] = l.runningMean.data[c]
                        stats[channels + c] = 1 / (l.runningVar.data[c] + l.eps).squareRoot()
                    }
                }
                let mean = stats[c], scale = stats[channels + c] * l.gamma.data[c], shift = l.beta.data[c]
                for b in 0..<batch {
                    let xs = run(b), out = a + (b * channels + c) * area
                    for i in 0..<area { out[i] = max(0, (xs[i] - mean) * scale + shift) }
                }
            }
        }
    }

    /// Through the ReLU (where the rebuilt output was positive) and the batch norm, for the
    /// channels in a range: `dβ = Σ dz`, `dγ = Σ dz·x̂`, and with batch statistics
    /// `dx = γ·rstd·(dz − Σdz/M − x̂·Σ(dz·x̂)/M)` (Ioffe & Szegedy 2015), else `dx = γ·rstd·dz`.
    private struct NormBackward: RangeWork {
        let layer: DenseBottleneck, inputs: [UnsafeMutablePointer<Float>], dx: [UnsafeMutablePointer<Float>?]
        let a: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>, batch: Int
        let stats: UnsafeMutablePointer<Float>

        func run(_ range: Range<Int>) {
            let l = layer, (area, channels) = (l.area, l.channels), count = Float(batch * area)
            for c in range {
                let (j, local) = l.source[c], cj = l.inputShapes[j][0]
                let mean = stats[c], rstd = stats[channels + c]
                var (sumDz, sumDzX) = (0.0, 0.0)
                for b in 0..<batch {
                    let at = (b * channels + c) * area, xs = inputs[j] + (b * cj + local) * area
                    let g = dz + at, out = a + at
                    for i in 0..<area where out[i] <= 0 { g[i] = 0 }
                    let (s, sx) = BatchNorm.sums(g, xs, area, mean: mean, relu: nil)
                    sumDz += s
                    sumDzX += sx * Double(rstd)
                }
                l.dBeta.data[c] += Float(sumDz)
                l.dGamma.data[c] += Float(sumDzX)
                guard let d = dx[j] else { continue }
                let k = l.gamma.data[c] * rstd
                let (meanDz, meanDzX) = l.usedBatchStatistics ? (Float(sumDz) / count, Float(sumDzX) / count) : (0, 0)
                for b in 0..<batch {
                    let g = dz + (b * channels + c) * area, xs = inputs[j] + (b * cj + local) * area
                    let ds = d + (b * cj + local) * area
                    for i in 0..<area { ds[i] += k * (g[i] - meanDz - (xs[i] - mean) * rstd * meanDzX) }
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        DenseBottleneck.self,
        summary: "DenseNet-BC bottleneck: BN → ReLU → 1x1 conv over its inputs' concatenation, never stored",
        keys: [
            ConfigKey("filters", "int", "Output channels of the 1x1 convolution (DenseNet-BC: 4 × growth rate)."),
            ConfigKey("eps", "number", default: "1e-5", "ε of the batch norm."),
            ConfigKey("momentum", "number", default: "0.1", "Running-estimate momentum of the batch norm (PyTorch's)."),
        ],
        example: LayerExample(["filters": 3], inputs: [[2, 2, 2], [1, 2, 2]], spacedInputs: true)
    )
}
