import CNNAVX512
import CNNCore

/// Fully connected layer: `y = x · Wᵀ + b` (PyTorch `nn.Linear`).
///
/// `x: [N, F] → y: [N, units]`, or for sequences `x: [N, T, F] → y: [N, T, units]`, the same
/// weights applied at every time step (Linear acts on the last dimension). Images must be
/// flattened first. Weight `[units, F]` (PyTorch layout), bias `[units]`, both PyTorch's
/// default init U(±1/√F). One sgemm over all `N·T` rows.
public final class Dense: ConfiguredLayer, ActivationFusing {
    public struct Config: Decodable, Sendable {
        var units: Int
        var bias: Bool?
    }

    public let name: String
    public static let typeName = "dense"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let units: Int, features: Int, hasBias: Bool
    /// Time steps per sample: 1 for a vector input.
    let steps: Int

    var weight: Tensor!, bias: Tensor?
    var weightGrad: Tensor!, biasGrad: Tensor?
    /// W packed for the input gradient's `PackedMatrix` product (AVX-512 only).
    private let packedWeight: DeferredBuffer?

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank == 1 || s.rank == 2 else {
            throw context.error("expects a [features] vector or a [time, features] sequence, got "
                                + "\(s); add a \"flatten\" layer before it")
        }
        guard c.units >= 1 else { throw context.error("must be ≥ 1, got \(c.units)", key: "units") }
        name = context.name
        inputShapes = context.inputShapes
        units = c.units
        features = s[s.rank - 1]
        steps = s.rank == 2 ? s[0] : 1
        hasBias = c.bias ?? true
        outputShape = s.rank == 2 ? [steps, units] : [units]
        let product = PackedMatrix(rows: units, columns: features)
        packedWeight = context.kernels.avx512 ? DeferredBuffer(count: product.floats) : nil
    }

    /// `dX[rows, F] += dY[rows, units] · W`. On AVX-512, batches of `PackedMatrix.minimumRows` and
    /// more multiply by W packed, not through OpenBLAS 0.3.21's SkylakeX small-matrix kernel,
    /// which allocates on every call when F ≡ 8 (mod 16) (LeNet-5's f6: F = 120).
    var inputGradientProduct: PackedMatrix { PackedMatrix(rows: units, columns: features) }

    public var parameterSpecs: [ParameterSpec] {
        let init_ = Initializer.pytorchDefault(fanIn: features)
        var specs = [ParameterSpec("weight", [units, features], role: .weight, initializer: init_)]
        if hasBias { specs.append(ParameterSpec("bias", [units], role: .bias, initializer: init_)) }
        return specs
    }

    /// Every weight and bias element is used once per time step.
    public var macs: Int { parameterCount * steps }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
        if hasBias { bias = parameters[1]; biasGrad = gradients[1] }
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        project(inputs[0], into: output, epilogue: nil)
    }

    public func forward(inputs: [Tensor], output: Tensor, epilogue: Activation, context: inout ExecutionContext) {
        project(inputs[0], into: output, epilogue: epilogue)
    }

    private func project(_ x: Tensor, into output: Tensor, epilogue: Activation?) {
        let rows = x.shape[0] * steps
        // Y[rows, units] = X[rows, F] · Wᵀ
        gemm(transB: true, m: rows, n: units, k: features, a: x.data, b: weight.data,
             c: output.data)
        for r in 0..<rows {
            let row = output.data + r * units
            if let bias { for u in 0..<units { row[u] += bias.data[u] } }
            epilogue?.apply(row, units)
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = inputs[0], rows = x.shape[0] * steps
        // dW[units, F] += dYᵀ · X
        gemm(transA: true, m: units, n: features, k: rows, a: dy.data, b: x.data,
             beta: 1, c: weightGrad.data)
        if let biasGrad {
            for r in 0..<rows {
                let row = dy.data + r * units
                for u in 0..<units { biasGrad.data[u] += row[u] }
            }
        }
        guard let dx = inputGradients[0] else { return }
        // dX[rows, F] += dY · W
        if let packed = packedWeight?.data, rows >= PackedMatrix.minimumRows {
            let product = inputGradientProduct
            product.pack(weight.data, ld: features, transposed: false, into: packed)
            product.multiply(m: rows, a: dy.data, lda: units, packed: packed, c: dx.data, ldc: features, accumulate: true)
        } else {
            gemm(m: rows, n: features, k: units, a: dy.data, b: weight.data, beta: 1, c: dx.data)
        }
    }

    public static let registration = LayerRegistration(
        Dense.self, summary: "fully connected layer (per time step on [T, F] sequences)",
        keys: [
            ConfigKey("units", "int", "Output features (PyTorch `out_features`)."),
            ConfigKey("bias", "bool", default: "true", "Adds a learned bias b: y = x·Wᵀ + b."),
        ],
        example: LayerExample(["units": 3], inputs: [[5]])
    )
}
