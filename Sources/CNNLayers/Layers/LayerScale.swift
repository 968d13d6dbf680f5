import CNNCore

/// A learnable scale per channel on a residual branch, "layer scale" (Touvron et al. 2021,
/// "Going deeper with Image Transformers" (CaiT); ConvNeXt, Liu et al. 2022): `y[c, …] = γ[c] ·
/// x[c, …]`, γ initialised small (ConvNeXt's 1e-6) so that a deep stack starts near the
/// identity. `x: [N, C, …] → y`, the same shape; `dx = γ·dy`, `dγ[c] = Σ dy·x`.
public final class LayerScale: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var initial: Float?
        private enum CodingKeys: String, CodingKey { case initial = "init" }

        public init(initial: Float? = nil) { self.initial = initial }
    }

    public let name: String
    public static let typeName = "layer_scale"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, inner: Int, initial: Float
    var gamma: Tensor!, gammaGrad: Tensor!

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        let initial = c.initial ?? 1e-6
        guard initial.isFinite else { throw context.error("must be a finite number, got \(initial)", key: "init") }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        channels = s[0]
        inner = s.count / s[0]
        self.initial = initial
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec("gamma", [channels], role: .weight, initializer: .constant(initial))]
    }

    /// None, as torchinfo counts it: ConvNeXt's γ is a bare parameter, not a module with a hook.
    public var macs: Int { 0 }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        gamma = parameters[0]; gammaGrad = gradients[0]
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0].data, y = output.data, g = gamma.data
        for r in 0..<output.shape[0] * channels {
            let v = g[r % channels], base = r * inner
            for i in base..<(base + inner) { y[i] = x[i] * v }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0].data, d = dy.data, g = gamma.data, dg = gammaGrad.data
        let dx = inputGradients[0]?.data
        for r in 0..<dy.shape[0] * channels {
            let c = r % channels, base = r * inner
            var sum: Float = 0
            for i in base..<(base + inner) {
                sum += d[i] * x[i]
                dx?[i] += d[i] * g[c]
            }
            dg[c] += sum
        }
    }

    public static let registration = LayerRegistration(
        LayerScale.self, summary: "learnable per-channel scale γ (layer scale: CaiT, ConvNeXt)",
        keys: [ConfigKey("init", "number", default: "1e-6",
                         "The initial γ of every channel (ConvNeXt's layer_scale_init_value).")],
        example: LayerExample(["init": 0.5], inputs: [[3, 4, 5]])
    )
}
