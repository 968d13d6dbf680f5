import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Softmax along one per-sample axis: `y_k = exp(x_k − m) / Σ_j exp(x_j − m)`, `m = max_j x_j`
/// (subtracting the max changes nothing mathematically and keeps `exp` from overflowing).
/// Backward: `dx = y ⊙ (dy − Σ_k dy_k·y_k)` along the axis.
///
/// `x: [N, …] → y: [N, …]`. `axis` counts per-sample dimensions (negative counts from the end,
/// as in PyTorch); the default 0 is the channel axis, like PyTorch `nn.Softmax(dim=1)` on NCHW
/// or on `[N, F]` vectors. No parameters.
///
/// The tensor is seen as `[outer, length, inner]` with the softmax over `length`; the loops run
/// over whole contiguous rows of `inner` values with the per-position max and sum in the
/// workspace, so a channel softmax on images reads memory in order.
public final class Softmax: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var axis: Int?
    }

    public let name: String
    public static let typeName = "softmax"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// The per-sample axis, non-negative.
    public let axis: Int
    /// Per-sample elements before the axis, along it, and after it.
    let before: Int, length: Int, inner: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank >= 1 else { throw context.error("expects an input of rank ≥ 1, got \(s)") }
        let requested = c.axis ?? 0
        guard requested >= -s.rank, requested < s.rank else {
            throw context.error("must be in \(-s.rank)..<\(s.rank) for the input shape \(s), "
                                + "got \(requested)", key: "axis")
        }
        axis = requested < 0 ? requested + s.rank : requested
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        before = s.dims[..<axis].reduce(1, *)
        length = s[axis]
        inner = s.dims[(axis + 1)...].reduce(1, *)
    }

    /// The running max and sum (forward) or the dot product (backward) per inner position.
    public func workspaceSize(batch: Int) -> Int { 2 * inner }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let outer = inputs[0].shape[0] * before, block = length * inner
        let m = context.workspace, s = context.workspace + inner
        for o in 0..<outer {
            let x = UnsafePointer(inputs[0].data + o * block), y = output.data + o * block
            m.update(from: x, count: inner)
            for k in 1..<max(length, 1) {
                let row = x + k * inner
                for j in 0..<inner { m[j] = max(m[j], row[j]) }
            }
            s.update(repeating: 0, count: inner)
            for k in 0..<length {
                let xr = x + k * inner, yr = y + k * inner
                for j in 0..<inner {
                    let e = exp(xr[j] - m[j])
                    yr[j] = e
                    s[j] += e
                }
            }
            for j in 0..<inner { s[j] = 1 / s[j] }
            for k in 0..<length {
                let yr = y + k * inner
                for j in 0..<inner { yr[j] *= s[j] }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dxTensor = inputGradients[0] else { return }
        let outer = output.shape[0] * before, block = length * inner
        let dot = context.workspace
        for o in 0..<outer {
            let y = UnsafePointer(output.data + o * block)
            let dy = UnsafePointer(outputGradient.data + o * block), dx = dxTensor.data + o * block
            dot.update(repeating: 0, count: inner)
            for k in 0..<length {
                let yr = y + k * inner, dyr = dy + k * inner
                for j in 0..<inner { dot[j] += dyr[j] * yr[j] }
            }
            for k in 0..<length {
                let yr = y + k * inner, dyr = dy + k * inner, dxr = dx + k * inner
                for j in 0..<inner { dxr[j] += yr[j] * (dyr[j] - dot[j]) }
            }
        }
    }

    public static let registration = LayerRegistration(
        Softmax.self, summary: "softmax along a per-sample axis (default 0, the channels)",
        keys: [
            ConfigKey("axis", "int", default: "0",
                      "Per-sample axis to normalize along, 0 the channels; negative counts from the end "
                      + "(PyTorch `dim` = axis + 1 for axis ≥ 0)."),
        ],
        example: LayerExample(["axis": 1], inputs: [[3, 5, 4]])
    )
}
