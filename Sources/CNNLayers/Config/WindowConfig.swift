import CNNConfig
import CNNCore

/// A per-axis integer written as `3` (both axes) or `[height, width]`, e.g. a 1x3 kernel.
public struct IntPair: Decodable, Sendable, Equatable {
    public var h: Int
    public var w: Int

    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.init(both, both) }

    public init(from decoder: Decoder) throws {
        switch decoder.jsonValue {
        case .int(let v)?:
            self.init(v)
        case .array(let a)? where a.count == 2:
            guard case .int(let h) = a[0], case .int(let w) = a[1] else { fallthrough }
            self.init(h, w)
        default:
            throw decoder.configError(
                "expected an integer or [height, width], got \(decoder.jsonValue?.kindName ?? "nothing")")
        }
    }

    /// Rejects values outside `minimum...maximum` with the key's path. The default maximum is far
    /// beyond any real kernel, stride or dilation; it keeps absurd values from overflowing.
    public func check(minimum: Int, maximum: Int = WindowLimits.maximum, _ key: String,
                      in context: LayerBuildContext) throws {
        if h < minimum || w < minimum || h > maximum || w > maximum {
            throw context.error("must be in \(minimum)...\(maximum), got \(h == w ? "\(h)" : "[\(h), \(w)]")", key: key)
        }
    }
}

/// Padding written as `1`, `[h, w]`, `[top, bottom, left, right]`, `"valid"` (0) or `"same"`
/// (stride-1 output size equal to the input; odd extra padding goes bottom/right, as in
/// TensorFlow and PyTorch).
public enum PaddingSpec: Decodable, Sendable, Equatable {
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    case same

    public init(from decoder: Decoder) throws {
        switch decoder.jsonValue {
        case .int(let p)?:
            self = .explicit(top: p, bottom: p, left: p, right: p)
        case .string("valid")?:
            self = .uniform(0)
        case .string("same")?:
            self = .same
        case .array(let a)? where a.count == 2 || a.count == 4:
            let ints = a.compactMap { if case .int(let v) = $0 { v } else { nil } }
            guard ints.count == a.count else { fallthrough }
            self = ints.count == 2
                ? .explicit(top: ints[0], bottom: ints[0], left: ints[1], right: ints[1])
                : .explicit(top: ints[0], bottom: ints[1], left: ints[2], right: ints[3])
        default:
            throw decoder.configError("expected an integer, [h, w], [top, bottom, left, right], "
                                      + "\"same\" or \"valid\"")
        }
    }

    /// `p` on every side.
    public static func uniform(_ p: Int) -> PaddingSpec { .explicit(top: p, bottom: p, left: p, right: p) }

    /// Per-side padding for one axis; "same" pads `F_eff − 1` in total (stride 1 semantics).
    public func resolve(kernel: IntPair, dilation: IntPair) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case let .explicit(t, b, l, r):
            return (t, b, l, r)
        case .same:
            let th = dilation.h * (kernel.h - 1), tw = dilation.w * (kernel.w - 1)
            return (th / 2, th - th / 2, tw / 2, tw - tw / 2)
        }
    }
}

extension PaddingMode: Decodable, ConfigEnum {}

public enum WindowLimits {
    /// The largest kernel, stride, dilation or padding a config may give.
    public static let maximum = 1024
}

extension LayerBuildContext {
    /// The geometry of a sliding window over the single `[C, H, W]` input, with output sizes from
    /// `outputSize` (so inexact divisions are noted on this layer).
    public mutating func windowGeometry(kernel: IntPair, stride: IntPair, padding: PaddingSpec,
                                        dilation: IntPair = IntPair(1), ceilMode: Bool = false)
        throws -> WindowGeometry {
        let x = try singleInput(rank: 3, what: "[channels, height, width]")
        try kernel.check(minimum: 1, "kernel", in: self)
        try stride.check(minimum: 1, "stride", in: self)
        try dilation.check(minimum: 1, "dilation", in: self)
        let p = padding.resolve(kernel: kernel, dilation: dilation)
        if min(p.top, p.bottom, p.left, p.right) < 0 || max(p.top, p.bottom, p.left, p.right) > WindowLimits.maximum {
            throw error("must be in 0...\(WindowLimits.maximum)", key: "padding")
        }
        let oh = try outputSize(axis: "height", input: x[1], kernel: kernel.h, stride: stride.h,
                                padBefore: p.top, padAfter: p.bottom, dilation: dilation.h,
                                ceilMode: ceilMode, key: "kernel")
        let ow = try outputSize(axis: "width", input: x[2], kernel: kernel.w, stride: stride.w,
                                padBefore: p.left, padAfter: p.right, dilation: dilation.w,
                                ceilMode: ceilMode, key: "kernel")
        return WindowGeometry(channels: x[0], height: x[1], width: x[2],
                              kernelH: kernel.h, kernelW: kernel.w,
                              strideH: stride.h, strideW: stride.w,
                              padTop: p.top, padBottom: p.bottom, padLeft: p.left, padRight: p.right,
                              dilationH: dilation.h, dilationW: dilation.w,
                              outHeight: oh, outWidth: ow)
    }
}

/// The window keys of the 2-D pools, documented once; `paddingReadsAs` is what a padded pixel
/// counts as (−∞ for max pooling, 0 for average pooling).
func poolingWindowKeys(paddingReadsAs: String) -> [ConfigKey] {
    [
        ConfigKey("kernel", "int or [h, w]", "Window size (PyTorch `kernel_size`)."),
        ConfigKey("stride", "int or [h, w]", default: "same as kernel", "Step S between windows."),
        ConfigKey("padding", "int, [h, w], [top, bottom, left, right], \"same\" or \"valid\"", default: "0",
                  "Pixels added per side, read as \(paddingReadsAs); each at most ⌊k/2⌋; \"same\" pads k − 1 per "
                  + "axis, the odd one bottom/right, \"valid\" is 0."),
        ConfigKey("ceil_mode", "bool", default: "false",
                  "Rounds the output size up, not down: one more window if it starts inside the input or "
                  + "the top/left padding (PyTorch's rule)."),
    ]
}
