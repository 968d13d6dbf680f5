import CNNCore

/// Layer normalization over the channels at each position of a `[C, H, W]` map (ConvNeXt's
/// `LayerNorm2d`, Liu et al. 2022, "A ConvNet for the 2020s"; torchvision's
/// `Permute → LayerNorm(C) → Permute`): `y[c, p] = (x[c, p] − μ_p) / √(σ²_p + ε) · γ[c] + β[c]`,
/// μ and the biased σ² over the `C` values at position `p`. Per-channel `weight` and `bias`
/// `[C]`; ε 1e-6 by default, as torchvision's ConvNeXt. `layernorm` instead normalizes over
/// C·H·W with a per-element affine.
public final class LayerNorm2D: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var eps: Float?

        public init(eps: Float? = nil) { self.eps = eps }
    }

    public let name: String
    public static let typeName = "layernorm2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, positions: Int
    let statistics: RowStatistics
    var weight: Tensor!, bias: Tensor!, weightGrad: Tensor!, biasGrad: Tensor!

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput(rank: 3, what: "[channels, height, width]")
        statistics = try RowStatistics(eps: c.eps ?? 1e-6, context: context)
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        channels = s[0]
        positions = s[1] * s[2]
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec("weight", [channels], role: .normScale, initializer: .constant(1)),
         ParameterSpec("bias", [channels], role: .normShift, initializer: .constant(0))]
    }

    /// torchinfo counts a norm layer's parameters once.
    public var macs: Int { parameterCount }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; bias = parameters[1]; weightGrad = gradients[0]; biasGrad = gradients[1]
    }

    /// μ and rstd of every position.
    public func savedStateFloats(batch: Int) -> Int { RowStatistics.savedFloats(rows: batch * positions) }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, n = inputs[0].shape[0], P = positions, C = channels
        let recorded = RowStatistics.recorded(rows: n * P, in: context.saved)
        let gamma = weight.data, beta = bias.data
        for s in 0..<n {
            for p in 0..<P {
                let xs = x + s * C * P + p, ys = y + s * C * P + p
                let (m, r) = statistics.measure(row: s * P + p, xs, count: C, stride: P, into: recorded)
                for c in 0..<C { ys[c * P] = (xs[c * P] - m) * r * gamma[c] + beta[c] }
            }
        }
    }

    /// Per position, with `dŷ = dy·γ`: `dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂))`;
    /// `dγ += Σ dy·x̂`, `dβ += Σ dy`.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0].data, g = dy.data, n = inputs[0].shape[0], P = positions, C = channels
        let recorded = RowStatistics.recorded(rows: n * P, in: context.saved)
        let dx = inputGradients[0]?.data, gamma = weight.data, dgamma = weightGrad.data, dbeta = biasGrad.data
        for s in 0..<n {
            for p in 0..<P {
                let base = s * C * P + p, m = recorded.mean[s * P + p], r = recorded.rstd[s * P + p]
                var sumD = 0.0, sumDXhat = 0.0
                for c in 0..<C {
                    let i = base + c * P, xhat = (x[i] - m) * r
                    dgamma[c] += g[i] * xhat
                    dbeta[c] += g[i]
                    let d = g[i] * gamma[c]
                    sumD += Double(d)
                    sumDXhat += Double(d * xhat)
                }
                guard let dx else { continue }
                let meanD = Float(sumD / Double(C)), meanDXhat = Float(sumDXhat / Double(C))
                for c in 0..<C {
                    let i = base + c * P
                    dx[i] += r * (g[i] * gamma[c] - meanD - (x[i] - m) * r * meanDXhat)
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        LayerNorm2D.self,
        summary: "layer normalization over the channels at each position (ConvNeXt's LayerNorm2d)",
        keys: [ConfigKey("eps", "number", default: "1e-6", "Added to σ² before the square root.")],
        example: LayerExample(["eps": 1e-5], inputs: [[4, 3, 5]])
    )
}
