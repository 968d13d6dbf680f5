#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CNNCore

/// Cross-channel local response normalization (Krizhevsky et al. 2012, §3.3; PyTorch
/// `nn.LocalResponseNorm`): `b_c = a_c · s_c^(−β)` with
/// `s_c = k + α/n · Σ_{c′ = c − ⌊n/2⌋}^{c + ⌊(n−1)/2⌋} a_{c′}²` (channels outside `0..<C` count as
/// zero; for even `n` the window has one more channel before `c` than after, as PyTorch pads
/// `n/2` before and `(n−1)/2` after). α is divided by `n`, as in PyTorch and Caffe.
///
/// `x: [N, C, H, W] → y: [N, C, H, W]` (channels first; any number of positions). No parameters.
/// Defaults `size` 5, `alpha` 1e-4, `beta` 0.75, `k` 2 are AlexNet's; note PyTorch's default
/// `k` is 1. Backward is Caffe's exact derivative (lrn_layer.cpp):
/// `∂a_c = ∂b_c · s_c^(−β) − (2αβ/n) · a_c · Σ_{c′ whose window holds c} ∂b_{c′} · b_{c′} / s_{c′}`.
public final class LocalResponseNorm: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var size: Int?
        var alpha: Float?
        var beta: Float?
        var k: Float?
    }

    public let name: String
    public static let typeName = "lrn"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, plane: Int
    let size: Int, alpha: Float, beta: Float, k: Float

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        guard s.rank >= 2 else {
            throw context.error("expects a channels-first input such as [C, H, W], got \(s)")
        }
        let size = c.size ?? 5, alpha = c.alpha ?? 1e-4, k = c.k ?? 2
        guard size >= 1 else { throw context.error("must be ≥ 1, got \(size)", key: "size") }
        guard alpha >= 0 else { throw context.error("must be ≥ 0, got \(alpha)", key: "alpha") }
        guard k > 0 else {
            throw context.error("must be > 0 (it keeps the denominator positive), got \(k)",
                                key: "k")
        }
        name = context.name
        inputShapes = context.inputShapes
        outputShape = s
        channels = s[0]
        plane = s.count / s[0]
        self.size = size
        self.alpha = alpha
        self.beta = c.beta ?? 0.75
        self.k = k
    }

    /// Per sample: `s^(−β)` and `∂b · b / s` for every element.
    public func workspaceSize(batch: Int) -> Int { 2 * channels * plane }

    /// The channels whose squares enter `s_c`.
    private func window(_ c: Int) -> ClosedRange<Int> {
        max(0, c - size / 2)...min(channels - 1, c + (size - 1) / 2)
    }

    /// The channels whose window holds `c` (the mirror image of `window` when `size` is even).
    private func reverseWindow(_ c: Int) -> ClosedRange<Int> {
        max(0, c - (size - 1) / 2)...min(channels - 1, c + size / 2)
    }

    /// The denominator `s = k + α/n·Σ x²` of every element, before the power (Caffe's scale blob).
    public func savedStateFloats(batch: Int) -> Int { batch * outputShape.count }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0], count = x.count, perSample = channels * plane
        let scale = context.saved.floats(count: count), alphaOverN = alpha / Float(size), plane = plane
        for b in 0..<x.shape[0] {
            let xb = x.data + b * perSample, yb = output.data + b * perSample
            let sb = scale + b * perSample
            for c in 0..<channels {
                let sc = sb + c * plane
                sc.update(repeating: k, count: plane)
                for w in window(c) {
                    let xw = xb + w * plane
                    for i in 0..<plane { sc[i] += alphaOverN * xw[i] * xw[i] }
                }
                let xc = xb + c * plane, yc = yb + c * plane
                for i in 0..<plane { yc[i] = xc[i] * powf(sc[i], -beta) }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let x = inputs[0], perSample = channels * plane, plane = plane
        let coefficient = 2 * alpha * beta / Float(size), scale = context.saved.floats(count: x.count)
        let p = context.workspace, ratio = context.workspace + perSample
        for b in 0..<x.shape[0] {
            let off = b * perSample
            let xb = x.data + off, gb = dy.data + off, dxb = dx.data + off, sb = scale + off
            // b/s is recomputed from a rather than read from the output, which a following
            // in-place operation may have changed.
            for i in 0..<perSample {
                p[i] = powf(sb[i], -beta)
                ratio[i] = gb[i] * xb[i] * p[i] / sb[i]
            }
            for c in 0..<channels {
                let o = c * plane
                for i in o..<o + plane { dxb[i] += gb[i] * p[i] }
                for w in reverseWindow(c) {
                    let rw = ratio + w * plane
                    for i in 0..<plane { dxb[o + i] -= coefficient * xb[o + i] * rw[i] }
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        LocalResponseNorm.self, summary: "AlexNet's cross-channel local response normalization",
        keys: [
            ConfigKey("size", "int", default: "5",
                      "Channels n in each window, c − ⌊n/2⌋ … c + ⌊(n − 1)/2⌋ (outside ones count as 0)."),
            ConfigKey("alpha", "number", default: "1e-4", "Scale α ≥ 0, divided by n: s = k + α/n·Σ a²."),
            ConfigKey("beta", "number", default: "0.75", "Exponent β: b = a·s^(−β)."),
            ConfigKey("k", "number", default: "2",
                      "Additive constant k > 0 in s (AlexNet's 2; PyTorch's default is 1)."),
        ],
        example: LayerExample(["size": 3, "alpha": 0.5, "beta": 0.75, "k": 2], inputs: [[5, 3, 5]])
    )
}
