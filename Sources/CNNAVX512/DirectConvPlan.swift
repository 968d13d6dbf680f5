/// A stride-1 or stride-2 undilated convolution computed directly on zero-padded planes, without
/// im2col.
///
/// Stride 1: each input plane is copied once into a zero-padded plane `Hp × Wp`
/// (`Hp = H + pt + pb`, `Wp = W + pl + pr`). On that plane, output `(oy, ox)` sits at flat position
/// `q = oy·Wp + ox` and tap `(i, j)` reads position `q + i·Wp + j`, so every output row, padding
/// columns included, is one contiguous run of `q` and the convolution is
/// `stage[f][q] = Σ_c Σ_ij w[f, c, i, j] · xp[c][q + i·Wp + j]` over `q < OH·Wp`:
/// sixteen neighbouring outputs per vector, and every tap an unaligned load. Columns
/// `ox ≥ OW` come out as garbage and are dropped when the stage is scattered into `[F, OH, OW]`
/// (the flat-row trick of direct convolution kernels; cf. Georganas et al. 2018, "Anatomy of
/// High-Performance Deep Learning Convolutions on SIMD Architectures").
///
/// Stride 2: the padded plane is split into its four phases `P_ab[y][x] = xp[2y + a][2x + b]`,
/// each `⌈Hp/2⌉ × ⌈Wp/2⌉` (polyphase decomposition). Tap `(i, j)` of output `(oy, ox)` reads
/// `P_{i mod 2, j mod 2}[oy + ⌊i/2⌋][ox + ⌊j/2⌋]`, so with the row pitch `⌈Wp/2⌉` the same flat-row
/// kernel runs, every tap again a contiguous run of sixteen outputs.
///
/// The code of this module is compiled for AVX-512 (skylake-avx512: F, CD, BW, DQ, VL) and must
/// only be called where `CPUFeatures.hasAVX512` holds.
public struct DirectConvPlan: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int, filters: Int
    public let kernelH: Int, kernelW: Int, stride: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let paddedHeight: Int, paddedWidth: Int
    public let outHeight: Int, outWidth: Int
    /// Rows and floats per row of a padded plane (stride 1) or of each of its phases (stride 2).
    public let rows: Int, pitch: Int
    /// Floats between consecutive planes (or phases): the plane, and room for the flat outputs.
    public let planeStride: Int
    /// The register-blocked loop with this convolution's taps, `[C][kh][kw]` (the weights' order).
    public let kernel: DirectConvKernel

    public init(channels: Int, height: Int, width: Int, filters: Int, kernelH: Int, kernelW: Int, stride: Int = 1,
                padTop: Int, padBottom: Int, padLeft: Int, padRight: Int) {
        precondition(stride == 1 || stride == 2, "direct convolutions have stride 1 or 2")
        self.channels = channels; self.height = height; self.width = width; self.filters = filters
        self.kernelH = kernelH; self.kernelW = kernelW; self.stride = stride
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        paddedHeight = height + padTop + padBottom
        paddedWidth = width + padLeft + padRight
        outHeight = (paddedHeight - kernelH) / stride + 1
        outWidth = (paddedWidth - kernelW) / stride + 1
        rows = (paddedHeight + stride - 1) / stride
        pitch = (paddedWidth + stride - 1) / stride
        let lanes = DirectConvKernel.lanes, vectors = (outHeight * pitch + lanes - 1) / lanes
        planeStride = max(rows * pitch, vectors * lanes)
        var taps: [Int] = []
        for c in 0..<channels {
            for i in 0..<kernelH {
                for j in 0..<kernelW {
                    let phase = (c * stride + i % stride) * stride + j % stride
                    taps.append(phase * planeStride + i / stride * pitch + j / stride)
                }
            }
        }
        kernel = DirectConvKernel(taps: taps, filters: filters, vectors: vectors)
    }

    /// The plan of a stride-1 convolution's input gradient, itself a stride-1 convolution:
    /// `dx[c, y, x] = Σ_f Σ_ij w[f, c, kh−1−i, kw−1−j] · dy_p[f][y + i][x + j]`, where `dy` is padded
    /// by `k − 1 − p` on each side (the "full" correlation with the flipped kernel).
    /// Nil for stride 2 (`PhaseInputGradient`) and when a padding exceeds `k − 1` (then some
    /// outputs see no input at all).
    public var inputGradientPlan: DirectConvPlan? {
        let pads = [kernelH - 1 - padTop, kernelH - 1 - padBottom, kernelW - 1 - padLeft, kernelW - 1 - padRight]
        guard stride == 1, pads.allSatisfy({ $0 >= 0 }) else { return nil }
        return DirectConvPlan(channels: filters, height: outHeight, width: outWidth, filters: channels,
                              kernelH: kernelH, kernelW: kernelW,
                              padTop: pads[0], padBottom: pads[1], padLeft: pads[2], padRight: pads[3])
    }

    /// How far before the spread dY (`spread`) its padded copy for `inputGradientPlan` would begin,
    /// when that copy is the spread dY itself: the input gradient's padded planes have this plan's
    /// pitch and plane stride (a "same" convolution, `pt + pb = kh − 1`, `pl + pr = kw − 1`), and the
    /// zeros above and left of each plane are the previous plane's tail and the previous row's
    /// garbage columns, which `spread` zeroes. Nil otherwise.
    public var spreadInputGradientShift: Int? {
        guard let back = inputGradientPlan, back.pitch == pitch, back.planeStride == planeStride,
              back.paddedHeight == paddedHeight else { return nil }
        let shift = back.padTop * pitch + back.padLeft
        guard planeStride - outHeight * pitch >= shift, pitch - outWidth >= back.padLeft else { return nil }
        return shift
    }

    /// The share of the computed positions that are outputs (the rest is padding columns and
    /// rounding to whole vectors): 0.94 at 32x32 with a 3x3 kernel, 0.8 at 8x8.
    public var usefulFraction: Double { Double(outHeight * outWidth) / Double(vectors * DirectConvKernel.lanes) }

    public var vectors: Int { kernel.vectors }
    public var stageRow: Int { kernel.stageRow }
    public var kernelArea: Int { kernelH * kernelW }
    /// Planes per image: one per channel, or four phases per channel.
    public var planes: Int { channels * stride * stride }
    /// Floats read past the last plane: a 3-vector block's overrun past the flat outputs, the
    /// furthest tap within a plane, and the depthwise weight gradient's tap group of three.
    var tail: Int {
        stageRow - vectors * DirectConvKernel.lanes + (kernelH - 1) / stride * pitch + (kernelW - 1) / stride + 3
    }
    /// Floats of `images` padded images `[images][planes][planeStride]` and the zeroed tail.
    public func paddedFloats(images: Int) -> Int { images * planes * planeStride + tail }
    /// Floats of `images` spread output gradients `[images][F][planeStride]`.
    public func spreadFloats(images: Int) -> Int { images * filters * planeStride }
}
