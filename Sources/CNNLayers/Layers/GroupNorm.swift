import CNNCore

/// Group normalization (Wu & He 2018; PyTorch `nn.GroupNorm`): the channels are split into
/// `groups` consecutive groups and `y = (x − μ_g) / √(σ²_g + ε) · γ_c + β_c`, with μ_g and the
/// biased σ²_g over one sample's group (its `C/groups` channels × all positions). Independent of
/// the batch, so training and inference agree. `groups = 1` is LayerNorm with per-channel
/// affine; `groups = C` is InstanceNorm.
///
/// `x: [N, C, H, W] → y: [N, C, H, W]`; channels are the first per-sample dimension, as in
/// PyTorch (`[C]`, `[C, L]` and `[C, D, H, W]` work too; a `[T, F]` sequence would be grouped
/// along T, so use `layernorm` there). With `affine`, `weight` [C] = 1 and `bias` [C] = 0.
public final class GroupNorm: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var groups: Int
        var eps: Float?
        var affine: Bool?
    }

    public let name: String
    public static let typeName = "groupnorm"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, groups: Int
    /// Values per channel (the spatial size) and per group.
    let inner: Int, groupSize: Int
    /// γ and β per channel.
    private let affine: NormAffine
    /// ε, and μ and rstd per (sample, group) of the last forward.
    let statistics: RowStatistics

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank >= 1 else { throw context.error("expects a non-scalar input, got \(s)") }
        guard c.groups >= 1, s[0] % c.groups == 0 else {
            throw context.error("must be ≥ 1 and divide the input channels (\(s[0])), "
                                + "got \(c.groups)", key: "groups")
        }
        statistics = try RowStatistics(eps: c.eps, context: context)
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        channels = s[0]
        groups = c.groups
        inner = s.count / s[0]
        groupSize = s.count / c.groups
        affine = NormAffine([channels], enabled: c.affine)
    }

    public var parameterSpecs: [ParameterSpec] { affine.specs }

    /// torchinfo counts a norm layer's parameters once: `2C` with affine.
    public var macs: Int { parameterCount }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        affine.bind(parameters: parameters, gradients: gradients)
    }

    var channelsPerGroup: Int { channels / groups }

    /// μ and rstd of every group of every sample.
    public func savedStateFloats(batch: Int) -> Int { RowStatistics.savedFloats(rows: batch * groups) }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, rows = inputs[0].shape[0] * groups
        let recorded = RowStatistics.recorded(rows: rows, in: context.saved)
        let cpg = channelsPerGroup, weight = affine.weight, bias = affine.bias
        // A group of one sample is contiguous: row r covers channels (r % groups)·cpg ..< +cpg.
        for r in 0..<rows {
            let xr = x + r * groupSize, yr = y + r * groupSize
            let (m, s) = statistics.measure(row: r, xr, count: groupSize, into: recorded)
            for k in 0..<cpg {
                let c = (r % groups) * cpg + k, off = k * inner
                let scale = s * (weight?.data[c] ?? 1), shift = bias?.data[c] ?? 0
                for i in off..<off + inner { yr[i] = (xr[i] - m) * scale + shift }
            }
        }
    }

    /// Per group, with `dŷ = dy·γ_c`: `dx = rstd/M · (M·dŷ − Σdŷ − x̂·Σ(dŷ·x̂))`;
    /// `dγ_c += Σ dy·x̂`, `dβ_c += Σ dy` over the channel's positions in every sample.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0].data, g = dy.data, rows = inputs[0].shape[0] * groups
        let recorded = RowStatistics.recorded(rows: rows, in: context.saved)
        let dx = inputGradients[0]?.data, cpg = channelsPerGroup, n = Float(groupSize)
        let weight = affine.weight, weightGrad = affine.weightGrad, biasGrad = affine.biasGrad
        for r in 0..<rows {
            let xr = x + r * groupSize, gr = g + r * groupSize
            let m = recorded.mean[r], s = recorded.rstd[r]
            var sumD = 0.0, sumDXhat = 0.0
            for k in 0..<cpg {
                let c = (r % groups) * cpg + k, off = k * inner, gamma = weight?.data[c] ?? 1
                var sumDy: Float = 0, sumDyXhat: Float = 0
                for i in off..<off + inner {
                    sumDy += gr[i]
                    sumDyXhat += gr[i] * (xr[i] - m) * s
                }
                weightGrad?.data[c] += sumDyXhat
                biasGrad?.data[c] += sumDy
                sumD += Double(gamma * sumDy)
                sumDXhat += Double(gamma * sumDyXhat)
            }
            guard let dx else { continue }
            let meanD = Float(sumD) / n, meanDXhat = Float(sumDXhat) / n, dxr = dx + r * groupSize
            for k in 0..<cpg {
                let c = (r % groups) * cpg + k, off = k * inner, gamma = weight?.data[c] ?? 1
                for i in off..<off + inner {
                    dxr[i] += s * (gr[i] * gamma - meanD - (xr[i] - m) * s * meanDXhat)
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        GroupNorm.self, summary: "group normalization over groups of channels of each sample",
        keys: [
            ConfigKey("groups", "int",
                      "Number of channel groups (PyTorch `num_groups`); must divide the channels; 1 "
                      + "normalizes the whole sample, C each channel (InstanceNorm)."),
            ConfigKey("eps", "number", default: "1e-5",
                      "ε > 0 added to the variance: y = (x − μ_g)/√(σ²_g + ε)·γ + β."),
            ConfigKey("affine", "bool", default: "true",
                      "Learns the per-channel scale γ (`weight`) and shift β (`bias`)."),
        ],
        example: LayerExample(["groups": 2, "eps": 1e-4], inputs: [[4, 3, 5]])
    )
}
