import CNNCore

/// Layer normalization (Ba, Kiros & Hinton 2016; PyTorch `nn.LayerNorm`):
/// `y = (x − μ) / √(σ² + ε) · γ + β`, μ and the biased σ² taken over the last
/// `normalized_dims` dimensions of each sample (all of them by default), so training and
/// inference compute the same thing and nothing depends on the batch.
///
/// `x: [N, …, D₁, …, D_k] → y: same shape`; e.g. `[N, C, H, W]` normalised per sample, or
/// `[N, T, F]` with `normalized_dims: 1` normalised per time step (as in Transformers).
/// With `elementwise_affine`, `weight` (= 1) and `bias` (= 0) have the normalized shape
/// `[D₁, …, D_k]`, as in PyTorch.
public final class LayerNorm: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var normalizedDims: Int?
        var eps: Float?
        var elementwiseAffine: Bool?

        private enum CodingKeys: String, CodingKey {
            case normalizedDims = "normalized_dims", eps, elementwiseAffine = "elementwise_affine"
        }
    }

    public let name: String
    public static let typeName = "layernorm"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let normalizedShape: Shape
    /// Rows (normalised groups) per sample and values per row.
    let rowsPerSample: Int, size: Int
    /// γ and β, of the normalized shape.
    private let affine: NormAffine
    /// ε, and μ and rstd per row of the last forward.
    let statistics: RowStatistics

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank >= 1 else { throw context.error("expects a non-scalar input, got \(s)") }
        let k = c.normalizedDims ?? s.rank
        guard k >= 1, k <= s.rank else {
            throw context.error("must be in 1...\(s.rank) (the input \(s) has \(s.rank) "
                                + "dimension(s)), got \(k)", key: "normalized_dims")
        }
        statistics = try RowStatistics(eps: c.eps, context: context)
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        normalizedShape = Shape(Array(s.dims.suffix(k)))
        size = normalizedShape.count
        rowsPerSample = s.count / size
        affine = NormAffine(normalizedShape, enabled: c.elementwiseAffine)
    }

    public var parameterSpecs: [ParameterSpec] { affine.specs }

    /// torchinfo counts a norm layer's parameters once.
    public var macs: Int { parameterCount }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        affine.bind(parameters: parameters, gradients: gradients)
    }

    /// μ and rstd of every row.
    public func savedStateFloats(batch: Int) -> Int { RowStatistics.savedFloats(rows: batch * rowsPerSample) }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, rows = inputs[0].shape[0] * rowsPerSample
        let recorded = RowStatistics.recorded(rows: rows, in: context.saved)
        let gamma = affine.weight?.data, beta = affine.bias?.data
        for r in 0..<rows {
            let xr = x + r * size, yr = y + r * size
            let (m, s) = statistics.measure(row: r, xr, count: size, into: recorded)
            if let gamma, let beta {
                for j in 0..<size { yr[j] = (xr[j] - m) * s * gamma[j] + beta[j] }
            } else {
                for j in 0..<size { yr[j] = (xr[j] - m) * s }
            }
        }
    }

    /// Per row, with `dŷ = dy·γ`: `dx = rstd/D · (D·dŷ − Σdŷ − x̂·Σ(dŷ·x̂))`;
    /// `dγ += Σ_rows dy·x̂`, `dβ += Σ_rows dy`.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0].data, g = dy.data, rows = inputs[0].shape[0] * rowsPerSample
        let recorded = RowStatistics.recorded(rows: rows, in: context.saved)
        let dx = inputGradients[0]?.data, gamma = affine.weight?.data
        let weightGrad = affine.weightGrad, biasGrad = affine.biasGrad
        let n = Float(size)
        for r in 0..<rows {
            let xr = x + r * size, gr = g + r * size
            let m = recorded.mean[r], s = recorded.rstd[r]
            if let weightGrad, let biasGrad {
                for j in 0..<size {
                    weightGrad.data[j] += gr[j] * (xr[j] - m) * s
                    biasGrad.data[j] += gr[j]
                }
            }
            guard let dx else { continue }
            var sumD = 0.0, sumDXhat = 0.0
            for j in 0..<size {
                let d = gr[j] * (gamma?[j] ?? 1)
                sumD += Double(d)
                sumDXhat += Double(d * (xr[j] - m) * s)
            }
            let meanD = Float(sumD) / n, meanDXhat = Float(sumDXhat) / n
            let dxr = dx + r * size
            for j in 0..<size {
                let d = gr[j] * (gamma?[j] ?? 1)
                dxr[j] += s * (d - meanD - (xr[j] - m) * s * meanDXhat)
            }
        }
    }

    public static let registration = LayerRegistration(
        LayerNorm.self,
        summary: "layer normalization over the last normalized_dims dimensions of each sample",
        keys: [
            ConfigKey("normalized_dims", "int", default: "all dimensions",
                      "How many trailing per-sample dimensions μ and σ² are taken over, 1 to the rank "
                      + "(PyTorch `normalized_shape` = those dimensions)."),
            ConfigKey("eps", "number", default: "1e-5",
                      "ε > 0 added to the variance: y = (x − μ)/√(σ² + ε)·γ + β."),
            ConfigKey("elementwise_affine", "bool", default: "true",
                      "Learns `weight` γ and `bias` β of the normalized shape."),
        ],
        example: LayerExample(["normalized_dims": 2, "eps": 1e-4], inputs: [[2, 3, 5]])
    )
}
