import CNNConfig
import CNNCore

/// Upsampling by integer factors (PyTorch `Upsample(scale_factor:, mode:)`).
///
/// `nearest`: `y[n, c, h, w] = x[n, c, ⌊h/s_h⌋, ⌊w/s_w⌋]`. `bilinear` with PyTorch's
/// `align_corners=False`: each output row `h` reads source row `r = max((h + ½)/s_h − ½, 0)`,
/// blending rows `⌊r⌋` and `min(⌊r⌋ + 1, H − 1)` with weights `1 − (r − ⌊r⌋)` and `r − ⌊r⌋`;
/// columns likewise, and the two blends multiply.
///
/// `x: [N, C, H, W] → y: [N, C, s_h·H, s_w·W]`. No parameters.
public final class Upsample: ConfiguredLayer {
    public enum Mode: String, Sendable, CaseIterable, ConfigEnum {
        case nearest, bilinear
    }

    public struct Config: Decodable, Sendable {
        var scale: IntPair
        var mode: Mode?
    }

    /// One output coordinate's two source coordinates and their weights (summing to 1).
    struct Tap {
        var low: Int, high: Int, lowWeight: Float, highWeight: Float
    }

    public let name: String
    public static let typeName = "upsample"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let mode: Mode
    let channels: Int, height: Int, width: Int
    let rowTaps: [Tap], columnTaps: [Tap]

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        try c.scale.check(minimum: 1, "scale", in: context)
        name = context.name
        inputShapes = context.inputShapes
        mode = c.mode ?? .nearest
        (channels, height, width) = (x[0], x[1], x[2])
        outputShape = [x[0], x[1] * c.scale.h, x[2] * c.scale.w]
        rowTaps = Self.taps(length: x[1], scale: c.scale.h, mode: mode)
        columnTaps = Self.taps(length: x[2], scale: c.scale.w, mode: mode)
    }

    /// Per output coordinate: PyTorch's `area_pixel_compute_source_index` with
    /// `align_corners=False` for bilinear, `⌊dst/scale⌋` (weight 0) for nearest.
    static func taps(length: Int, scale: Int, mode: Mode) -> [Tap] {
        (0..<(length * scale)).map { dst in
            switch mode {
            case .nearest:
                return Tap(low: dst / scale, high: dst / scale, lowWeight: 1, highWeight: 0)
            case .bilinear:
                let source = max((Float(dst) + 0.5) / Float(scale) - 0.5, 0)
                let low = min(Int(source), length - 1)
                let lambda = source - Float(low)
                return Tap(low: low, high: min(low + 1, length - 1), lowWeight: 1 - lambda,
                           highWeight: lambda)
            }
        }
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0]
        let (H, W, OH, OW) = (height, width, outputShape[1], outputShape[2])
        rowTaps.withUnsafeBufferPointer { rt in
            columnTaps.withUnsafeBufferPointer { ct in
                for p in 0..<(x.shape[0] * channels) {
                    let xp = x.data + p * H * W, yp = output.data + p * OH * OW
                    for oh in 0..<OH {
                        let r = rt[oh], top = xp + r.low * W, bottom = xp + r.high * W
                        if mode == .nearest {
                            for ow in 0..<OW { yp[oh * OW + ow] = top[ct[ow].low] }
                            continue
                        }
                        // PyTorch's form: blend along the row, then between the two rows.
                        for ow in 0..<OW {
                            let t = ct[ow]
                            let upper = t.lowWeight * top[t.low] + t.highWeight * top[t.high]
                            let lower = t.lowWeight * bottom[t.low] + t.highWeight * bottom[t.high]
                            yp[oh * OW + ow] = r.lowWeight * upper + r.highWeight * lower
                        }
                    }
                }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let (H, W, OH, OW) = (height, width, outputShape[1], outputShape[2])
        rowTaps.withUnsafeBufferPointer { rt in
            columnTaps.withUnsafeBufferPointer { ct in
                for p in 0..<(dy.shape[0] * channels) {
                    let dxp = dx.data + p * H * W, dyp = dy.data + p * OH * OW
                    for oh in 0..<OH {
                        let r = rt[oh], top = dxp + r.low * W, bottom = dxp + r.high * W
                        if mode == .nearest {
                            for ow in 0..<OW { top[ct[ow].low] += dyp[oh * OW + ow] }
                            continue
                        }
                        for ow in 0..<OW {
                            let t = ct[ow], g = dyp[oh * OW + ow]
                            let upper = g * r.lowWeight, lower = g * r.highWeight
                            top[t.low] += upper * t.lowWeight
                            top[t.high] += upper * t.highWeight
                            bottom[t.low] += lower * t.lowWeight
                            bottom[t.high] += lower * t.highWeight
                        }
                    }
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        Upsample.self, summary: "upsampling by integer factors (nearest or bilinear)",
        keys: [
            ConfigKey("scale", "int or [h, w]", "Integer factor per axis, ≥ 1 (PyTorch `scale_factor`)."),
            ConfigKey("mode", "\"nearest\" | \"bilinear\"", default: "\"nearest\"",
                      "Interpolation: copies of the nearest pixel, or bilinear blends with PyTorch's "
                      + "align_corners=False."),
        ],
        example: LayerExample(["scale": [2, 3], "mode": "bilinear"], inputs: [[2, 3, 4]])
    )
}
