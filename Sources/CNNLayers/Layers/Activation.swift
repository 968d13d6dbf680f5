import CNNConfig
import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// An elementwise activation `y = f(x)`, one layer type per function (PyTorch's definitions):
///
/// - `relu`: `max(x, 0)`; `relu6`: `min(max(x, 0), 6)` (MobileNetV2)
/// - `leaky_relu`: `x` for `x > 0`, else `negative_slope·x` (default 0.01)
/// - `elu`: `x` for `x > 0`, else `α·(eˣ − 1)` (default α = 1; Clevert et al. 2015)
/// - `tanh`; `sigmoid`: `σ(x) = 1/(1 + e⁻ˣ)`
/// - `swish` = `silu`: `x·σ(x)` (Ramachandran et al. 2017; PyTorch `nn.SiLU`)
/// - `hard_sigmoid`: `relu6(x + 3)/6`; `hard_swish`: `x·relu6(x + 3)/6` (MobileNetV3, Howard et
///   al. 2019; PyTorch `nn.Hardsigmoid`/`nn.Hardswish`)
/// - `gelu`: `x·Φ(x)`, `Φ(x) = (1 + erf(x/√2))/2`, the exact form (Hendrycks & Gimpel 2016;
///   PyTorch `nn.GELU()` default, not the tanh approximation)
/// - `identity`: `x` (not a registered layer type; the `"activation"` sugar may name it)
///
/// `x: [N, …] → y: [N, …]`, any per-sample shape. No parameters. Backward reads `y` where that
/// is cheaper than recomputing from `x` (relu, elu, tanh, sigmoid, swish). At kinks the
/// subgradient is PyTorch's: 0 for relu at 0, relu6 at 0 and 6 and hard_sigmoid at ±3;
/// `(2x + 3)/6` for hard_swish at ±3; `negative_slope` for leaky_relu at 0.
public final class Activation: Layer {
    public enum Function: String, ConfigEnum, CaseIterable, Sendable {
        case relu, relu6
        case leakyReLU = "leaky_relu"
        case elu, tanh, sigmoid
        /// `swish` and `silu` are the same function under its two names; both are kept so the
        /// layer's `type` is the name the config used.
        case swish, silu
        case hardSwish = "hard_swish"
        case hardSigmoid = "hard_sigmoid"
        case gelu, identity
    }

    /// Functions without settings: any key is unknown.
    struct NoConfig: Decodable {
        init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}
    }

    struct LeakyReLUConfig: Decodable {
        var negativeSlope: Float?

        private enum CodingKeys: String, CodingKey { case negativeSlope = "negative_slope" }
    }

    struct ELUConfig: Decodable {
        var alpha: Float?
    }

    public let name: String
    public var type: String { function.rawValue }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    public let function: Function
    /// leaky_relu's slope for `x ≤ 0`.
    public let negativeSlope: Float
    /// elu's saturation value `−α` for `x → −∞`.
    public let alpha: Float

    private init(_ function: Function, name: String, shape: Shape, negativeSlope: Float,
                 alpha: Float) {
        self.function = function
        self.name = name
        inputShapes = [shape]
        outputShape = shape
        self.negativeSlope = negativeSlope
        self.alpha = alpha
    }

    /// PyTorch's defaults: `nn.LeakyReLU(negative_slope=0.01)`, `nn.ELU(alpha=1.0)`.
    static let defaultNegativeSlope: Float = 0.01, defaultAlpha: Float = 1

    /// `function` with its default settings on the single input (the `"activation"` key of an
    /// entry, and the activations blocks generate).
    public convenience init(_ function: Function, context: inout LayerBuildContext) throws {
        let shape = try context.singleInput()
        self.init(function, name: context.name, shape: shape, negativeSlope: Self.defaultNegativeSlope,
                  alpha: Self.defaultAlpha)
    }

    /// Decodes the function's own settings (none for most) and checks for a single input.
    static func build(_ function: Function, context: inout LayerBuildContext) throws -> Activation {
        var slope = defaultNegativeSlope, alpha = defaultAlpha
        switch function {
        case .leakyReLU: slope = try context.decode(LeakyReLUConfig.self).negativeSlope ?? slope
        case .elu: alpha = try context.decode(ELUConfig.self).alpha ?? alpha
        default: _ = try context.decode(NoConfig.self)
        }
        let shape = try context.singleInput()
        return Activation(function, name: context.name, shape: shape, negativeSlope: slope, alpha: alpha)
    }

    // MARK: - Forward

    /// Elementwise, so the elements are split between the worker pool's parts.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        context.pool.forEachRange(output.count, Forward(layer: self, x: inputs[0].data, y: output.data))
    }

    struct Forward: RangeWork {
        let layer: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        func run(_ r: Range<Int>) { layer.forward(x + r.lowerBound, y + r.lowerBound, r.count) }
    }

    struct Backward: RangeWork {
        let layer: Activation, x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>
        let dx: UnsafeMutablePointer<Float>
        func run(_ r: Range<Int>) {
            let o = r.lowerBound
            layer.backward(x + o, y + o, dy + o, dx + o, r.count)
        }
    }

    private func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch function {
        case .relu:
            for i in 0..<n { y[i] = max(x[i], 0) }
        case .relu6:
            for i in 0..<n { y[i] = min(max(x[i], 0), 6) }
        case .leakyReLU:
            let s = negativeSlope
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : s * x[i] }
        case .elu:
            // expm1 keeps eˣ − 1 accurate near 0.
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : alpha * expm1(x[i]) }
        case .tanh:
            for i in 0..<n { y[i] = FastMath.tanh(x[i]) }
        case .sigmoid:
            for i in 0..<n { y[i] = FastMath.sigmoid(x[i]) }
        case .swish, .silu:
            for i in 0..<n { y[i] = x[i] * FastMath.sigmoid(x[i]) }
        case .hardSigmoid:
            for i in 0..<n { y[i] = min(max(x[i] + 3, 0), 6) / 6 }
        case .hardSwish:
            for i in 0..<n { y[i] = x[i] * min(max(x[i] + 3, 0), 6) / 6 }
        case .gelu:
            for i in 0..<n { y[i] = x[i] * Activation.normalCDF(x[i]) }
        case .identity:
            y.update(from: x, count: n)
        }
    }

    // MARK: - In place, after a fusing layer

    /// Functions whose derivative is a function of the output alone, so the activation may
    /// overwrite its input and still back-propagate (relu's mask is `y > 0`, tanh's `1 − y²`).
    public var worksInPlace: Bool {
        switch function {
        case .relu, .relu6, .tanh, .sigmoid: true
        default: false
        }
    }

    /// `y = f(y)` on `n` values: the epilogue an `ActivationFusing` layer runs on its own output.
    /// relu and relu6 read and write through the one pointer: passed the same buffer twice,
    /// `forward`'s loops fail the vectorizer's overlap check and run scalar.
    public func apply(_ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch function {
        case .relu: for i in 0..<n { y[i] = max(y[i], 0) }
        case .relu6: for i in 0..<n { y[i] = min(max(y[i], 0), 6) }
        default: forward(y, y, n)
        }
    }

    /// `g = f′ · g` in place, `f′` from the output `y` (the layer before has the same buffers).
    public func backwardInPlace(output y: Tensor, gradient g: Tensor, pool: WorkerPool) {
        precondition(worksInPlace, "\(name): \(function.rawValue) cannot back-propagate in place")
        pool.forEachRange(y.count, InPlaceBackward(layer: self, y: y.data, g: g.data))
    }

    struct InPlaceBackward: RangeWork {
        let layer: Activation, y: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>
        func run(_ r: Range<Int>) { layer.backwardInPlace(y + r.lowerBound, g + r.lowerBound, r.count) }
    }

    private func backwardInPlace(_ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ n: Int) {
        switch function {
        case .relu: Self.reluBackward(y, g, g, n, adding: false)
        case .relu6: for i in 0..<n { g[i] = y[i] > 0 && y[i] < 6 ? g[i] : 0 }
        case .tanh: for i in 0..<n { g[i] *= 1 - y[i] * y[i] }
        case .sigmoid: for i in 0..<n { g[i] = g[i] * y[i] * (1 - y[i]) }
        default: preconditionFailure("\(function.rawValue) has no in-place backward")
        }
    }

    // MARK: - Backward

    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        context.pool.forEachRange(output.count, Backward(layer: self, x: inputs[0].data, y: output.data,
                                                         dy: outputGradient.data, dx: dx.data))
    }

    private func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                          _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch function {
        case .relu:
            Self.reluBackward(y, dy, dx, n, adding: true)
        case .relu6:
            for i in 0..<n { dx[i] += x[i] > 0 && x[i] < 6 ? dy[i] : 0 }
        case .leakyReLU:
            let s = negativeSlope
            for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : s * dy[i] }
        case .elu:
            // For x ≤ 0: d/dx α(eˣ − 1) = α·eˣ = y + α.
            for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha) }
        case .tanh:
            for i in 0..<n { dx[i] += dy[i] * (1 - y[i] * y[i]) }
        case .sigmoid:
            for i in 0..<n { dx[i] += dy[i] * y[i] * (1 - y[i]) }
        case .swish, .silu:
            // d/dx x·σ(x) = σ + x·σ(1 − σ) = σ + y(1 − σ).
            for i in 0..<n {
                let s = FastMath.sigmoid(x[i])
                dx[i] += dy[i] * (s + y[i] * (1 - s))
            }
        case .hardSigmoid:
            for i in 0..<n { dx[i] += x[i] > -3 && x[i] < 3 ? dy[i] / 6 : 0 }
        case .hardSwish:
            // d/dx x(x + 3)/6 = (2x + 3)/6 inside [−3, 3]; PyTorch's branches.
            for i in 0..<n {
                dx[i] += x[i] < -3 ? 0 : x[i] <= 3 ? dy[i] * (x[i] / 3 + 0.5) : dy[i]
            }
        case .gelu:
            // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ the standard normal density.
            let invSqrt2Pi: Float = 0.398_942_28
            for i in 0..<n {
                let v = x[i]
                dx[i] += dy[i] * (Activation.normalCDF(v) + v * invSqrt2Pi * exp(-0.5 * v * v))
            }
        case .identity:
            for i in 0..<n { dx[i] += dy[i] }
        }
    }

    /// `dx += dy` where `y > 0` (`adding`), or `dx = dy` there and 0 elsewhere (in place, with
    /// `dx == dy`), sixteen lanes at a time: written as a select on vectors, because the scalar
    /// loop compiled to a branch that random signs mispredict half the time (5 ns an element, 25×
    /// the forward pass).
    @inline(__always)
    static func reluBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                             _ n: Int, adding: Bool) {
        typealias V = SIMD16<Float>
        var i = 0
        while i + V.scalarCount <= n {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: V.self)
            var g = UnsafeRawPointer(dy + i).loadUnaligned(as: V.self).replacing(with: 0, where: yv .<= 0)
            if adding { g += UnsafeRawPointer(dx + i).loadUnaligned(as: V.self) }
            UnsafeMutableRawPointer(dx + i).storeBytes(of: g, as: V.self)
            i += V.scalarCount
        }
        while i < n {
            let g = y[i] > 0 ? dy[i] : 0
            dx[i] = adding ? dx[i] + g : g
            i += 1
        }
    }

    /// `Φ(v) = (1 + erf(v/√2))/2`.
    @inline(__always)
    static func normalCDF(_ v: Float) -> Float {
        0.5 * (1 + erf(v * 0.707_106_78))
    }

    // MARK: - Registrations

    /// One registration per config type name (every function but `identity`); only leaky_relu
    /// and elu take keys.
    public static let registrations: [LayerRegistration] = Function.allCases
        .filter { $0 != .identity }
        .map { function in
            let keys: [ConfigKey] = switch function {
            case .leakyReLU: [
                ConfigKey("negative_slope", "number", default: "0.01",
                          "Slope of the negative part: y = negative_slope·x for x ≤ 0."),
            ]
            case .elu: [
                ConfigKey("alpha", "number", default: "1",
                          "α in y = α·(eˣ − 1) for x ≤ 0, so y tends to −α as x → −∞ "
                          + "(Clevert et al. 2015)."),
            ]
            default: []
            }
            return LayerRegistration(type: function.rawValue, summary: function.summary, keys: keys,
                                     example: function.example) { context in
                try Activation.build(function, context: &context)
            }
        }
}

extension Activation.Function {
    var summary: String {
        switch self {
        case .relu: "max(x, 0)"
        case .relu6: "min(max(x, 0), 6)"
        case .leakyReLU: "x, or negative_slope·x for x ≤ 0 (default 0.01)"
        case .elu: "x, or α(eˣ − 1) for x ≤ 0 (alpha, default 1)"
        case .tanh: "hyperbolic tangent"
        case .sigmoid: "logistic sigmoid 1/(1 + e⁻ˣ)"
        case .swish, .silu: "x·σ(x) (swish = silu)"
        case .hardSwish: "x·relu6(x + 3)/6 (MobileNetV3)"
        case .hardSigmoid: "relu6(x + 3)/6 (MobileNetV3)"
        case .gelu: "x·Φ(x), exact erf form"
        case .identity: "y = x"
        }
    }

    /// Inputs 0.1 apart with offset 0.037 never sit within ±h of a kink (0, ±3, 6), and a
    /// [4, 5, 4] sample spans about ±8, so every piece, both saturations included, is checked.
    var example: LayerExample {
        switch self {
        case .leakyReLU:
            LayerExample(["negative_slope": 0.2], inputs: [[4, 5, 4]], spacedInputs: true)
        case .elu:
            LayerExample(["alpha": 1.5], inputs: [[4, 5, 4]], spacedInputs: true)
        case .relu, .relu6, .hardSwish, .hardSigmoid:
            LayerExample([:], inputs: [[4, 5, 4]], spacedInputs: true)
        case .tanh, .sigmoid, .swish, .silu, .gelu, .identity:
            LayerExample([:], inputs: [[3, 5, 4]], spacedInputs: true)
        }
    }
}
