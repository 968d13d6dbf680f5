import CNNCore
import CNNAVX512

/// Which algorithm a convolution runs, and every threshold that decides it. Each rule states its
/// reason once; the measurements behind the numbers are in docs/PERFORMANCE.md
/// ("Convolution algorithms").
///
/// In order of preference:
/// 1. **Winograd** F(4×4, 3×3): 3x3, stride 1, no dilation, one group, zero padding of at most 2
///    per side, at least `winogradMinimumChannels` channels and filters; from
///    `winogradMinimumBatch` images, with the algorithm below for smaller batches.
/// 2. **Direct** (AVX-512 kernels on, zero padding, no dilation, equal strides): one group and a kernel
///    larger than 1x1 with stride 1 or 2, or stride 1 and one filter per channel (depthwise).
///    Not where a long lowered product would beat it (`directPays`).
/// 3. **Depthwise** loops: groups == channels > 1 (stride-2 forward on AVX-512 through the
///    input's phases where there is one filter per channel).
/// 4. **Pointwise**: 1x1, stride 1, no padding: the input is its own lowered matrix.
/// 5. **Lowered** (im2col + sgemm): everything else.
public enum ConvolutionSelection {
    /// Channels and filters from which Winograd's transforms pay for themselves, against
    /// im2col + sgemm and against the direct kernels alike.
    static let winogradMinimumChannels = 16

    /// Images from which a call runs through Winograd: below, transforming the kernels on every
    /// call costs more than the cheaper products save.
    static let winogradMinimumBatch = 8

    /// The direct kernels compute whole vectors of a padded row, so a fraction of their work is
    /// padding columns; below `directUsefulFraction` of useful positions, and where the lowered
    /// product is long enough (`K = C·kh·kw ≥ directLongProduct`) for sgemm to run near its
    /// peak, im2col + sgemm is faster (VGG's 8x8 layers with 128 and 256 channels).
    static let directUsefulFraction = 0.85
    static let directLongProduct = 1_024

    /// Floats of the chunk buffers (lowered columns, padded images) a part fills before its
    /// products: large enough for wide products, small enough to stay in cache.
    static let chunkFloats = 1 << 20

    /// Output positions from which the lowered forward takes one image at a time: the product is
    /// wide enough alone and lands in Y without a staging copy. The backward keeps its chunks,
    /// because the weight gradient's reduction over one image's positions is too short.
    static let perImageArea = 256

    /// The most taps (channels × kernel area) a direct plan lists: 16× the widest real layer
    /// (2048 channels of 7x7), so that an absurd layer costs no memory while it is only built.
    static let directMaximumTaps = 1 << 21

    /// The algorithm for `shape`, and the one for batches below `winogradMinimumBatch` where it
    /// differs.
    static func choose(_ shape: ConvolutionShape, mode: PaddingMode, kernels: KernelOptions)
        -> (algorithm: any ConvolutionAlgorithm, smallBatch: (any ConvolutionAlgorithm)?) {
        let g = shape.geometry, lowering = Im2Col(g, mode: mode)
        let depthwise = shape.groups == g.channels && shape.groups > 1
        let direct = kernels.avx512 ? directPlan(shape, depthwise: depthwise, mode: mode) : nil
        let fallback: any ConvolutionAlgorithm
        if let direct {
            fallback = DirectConvolution(shape, plan: direct, depthwise: depthwise)
        } else if depthwise {
            let kernel = DepthwiseConv(lowering, multiplier: shape.filters / shape.groups)
            let phases = kernels.avx512 ? phasePlan(shape, mode: mode) : nil
            fallback = DepthwiseConvolution(shape, depthwise: kernel, phases: phases)
        } else if isPointwise(g) {
            fallback = PointwiseConvolution(shape)
        } else {
            fallback = LoweredConvolution(shape, lowering: lowering)
        }
        guard kernels.winograd, let winograd = winogradPlan(shape, mode: mode) else { return (fallback, nil) }
        return (WinogradConvolution(shape, plan: winograd), fallback)
    }

    /// 1x1, stride 1, unpadded.
    static func isPointwise(_ g: WindowGeometry) -> Bool {
        g.kernelArea == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop + g.padBottom + g.padLeft + g.padRight == 0
    }

    static func winogradPlan(_ shape: ConvolutionShape, mode: PaddingMode) -> WinogradPlan? {
        let g = shape.geometry
        guard g.kernelH == 3, g.kernelW == 3, g.strideH == 1, g.strideW == 1,
              g.dilationH == 1, g.dilationW == 1, shape.groups == 1, mode == .zeros,
              [g.padTop, g.padBottom, g.padLeft, g.padRight].allSatisfy({ $0 <= 2 }),
              g.channels >= winogradMinimumChannels, shape.filters >= winogradMinimumChannels
        else { return nil }
        return WinogradPlan(channels: g.channels, height: g.height, width: g.width, filters: shape.filters,
                            padTop: g.padTop, padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight)
    }

    /// 1x1 convolutions need no lowering at stride 1, and at stride 2 (ResNet's projection
    /// shortcuts) the direct kernels are no faster than the lowered product, so they take none.
    /// Stride 1 also needs padding of at most `k − 1` per side, for the input gradient's plan.
    static func directPlan(_ shape: ConvolutionShape, depthwise: Bool, mode: PaddingMode) -> DirectConvPlan? {
        let g = shape.geometry
        guard mode == .zeros, g.strideH == g.strideW, g.dilationH == 1, g.dilationW == 1
        else { return nil }
        // A plan lists every tap of its input and of its input gradient's (filters as channels).
        guard max(g.channels, shape.filters) * g.kernelArea <= directMaximumTaps else { return nil }
        switch g.strideH {
        case 1: guard depthwise ? shape.filters == g.channels : shape.groups == 1 && g.kernelArea > 1 else { return nil }
        case 2: guard shape.groups == 1 && g.kernelArea > 1 else { return nil }
        default: return nil
        }
        let plan = DirectConvPlan(channels: g.channels, height: g.height, width: g.width, filters: shape.filters,
                                  kernelH: g.kernelH, kernelW: g.kernelW, stride: g.strideH, padTop: g.padTop,
                                  padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight)
        guard depthwise || directPays(plan, columnRows: g.columnRows) else { return nil }
        return plan.stride == 2 || plan.inputGradientPlan != nil ? plan : nil
    }

    static func directPays(_ plan: DirectConvPlan, columnRows: Int) -> Bool {
        plan.usefulFraction >= directUsefulFraction || columnRows < directLongProduct
    }

    /// Stride-2 depthwise convolutions with one filter per channel, zero padding, no dilation.
    static func phasePlan(_ shape: ConvolutionShape, mode: PaddingMode) -> PhaseDepthwisePlan? {
        let g = shape.geometry
        guard mode == .zeros, shape.filters == g.channels, g.strideH == 2, g.strideW == 2,
              g.dilationH == 1, g.dilationW == 1 else { return nil }
        return PhaseDepthwisePlan(channels: g.channels, height: g.height, width: g.width, kernelH: g.kernelH,
                                  kernelW: g.kernelW, padTop: g.padTop, padBottom: g.padBottom,
                                  padLeft: g.padLeft, padRight: g.padRight)
    }

    /// The Winograd rule, as `bench` prints it.
    public static var winogradRule: String {
        WinogradPlan.enabled
            ? "3x3 stride-1 zero-padded convolutions with ≥ \(winogradMinimumChannels) channels and filters; "
                + "\(WinogradPlan.variable)=off turns it off"
            : "off (\(WinogradPlan.variable)=off)"
    }
}
