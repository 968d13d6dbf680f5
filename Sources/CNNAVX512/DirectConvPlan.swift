/// A stride-1, undilated convolution computed directly on zero-padded planes, without im2col.
///
/// Each input plane is copied once into a zero-padded plane `Hp × Wp` (`Hp = H + pt + pb`,
/// `Wp = W + pl + pr`). On that plane, output `(oy, ox)` sits at flat position `q = oy·Wp + ox`
/// and tap `(i, j)` reads position `q + i·Wp + j`, so every output row, padding columns
/// included, is one contiguous run of `q` and the convolution is
/// `stage[f][q] = Σ_c Σ_ij w[f, c, i, j] · xp[c][q + i·Wp + j]` over `q < OH·Wp`:
/// sixteen neighbouring outputs per vector, and every tap an unaligned load. Columns
/// `ox ≥ OW` come out as garbage and are dropped when the stage is scattered into `[F, OH, OW]`
/// (the flat-row trick of direct convolution kernels; cf. Georganas et al. 2018, "Anatomy of
/// High-Performance Deep Learning Convolutions on SIMD Architectures").
///
/// The code of this module is compiled for AVX-512 (skylake-avx512: F, CD, BW, DQ, VL) and must
/// only be called where `CPUFeatures.hasAVX512` holds.
public struct DirectConvPlan: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int, filters: Int
    public let kernelH: Int, kernelW: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let paddedHeight: Int, paddedWidth: Int
    public let outHeight: Int, outWidth: Int
    /// Sixteen-float vectors covering the flat outputs `0..<OH·Wp`.
    public let vectors: Int
    /// Floats between consecutive padded planes: the plane, and room for `vectors` of `q`.
    public let planeStride: Int
    /// Floats of one filter's row in the stage: `vectors` rounded up to the kernel's 3-vector block.
    public let stageRow: Int

    /// Filters and vectors per register block of the kernels: 8 × 3 accumulators of 16 lanes
    /// (24 of the 32 zmm registers), so each broadcast weight feeds 3 FMAs and each loaded
    /// input vector 8.
    public static let filterBlock = 8, vectorBlock = 3, lanes = 16

    public init(channels: Int, height: Int, width: Int, filters: Int, kernelH: Int, kernelW: Int,
                padTop: Int, padBottom: Int, padLeft: Int, padRight: Int) {
        self.channels = channels; self.height = height; self.width = width; self.filters = filters
        self.kernelH = kernelH; self.kernelW = kernelW
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        paddedHeight = height + padTop + padBottom
        paddedWidth = width + padLeft + padRight
        outHeight = paddedHeight - kernelH + 1
        outWidth = paddedWidth - kernelW + 1
        let lanes = Self.lanes
        vectors = (outHeight * paddedWidth + lanes - 1) / lanes
        planeStride = max(paddedHeight * paddedWidth, vectors * lanes)
        stageRow = (vectors + Self.vectorBlock - 1) / Self.vectorBlock * Self.vectorBlock * lanes
    }

    /// The plan of this convolution's input gradient, itself a stride-1 convolution:
    /// `dx[c, y, x] = Σ_f Σ_ij w[f, c, kh−1−i, kw−1−j] · dy_p[f][y + i][x + j]`, where `dy` is padded
    /// by `k − 1 − p` on each side (the "full" correlation with the flipped kernel).
    /// Nil when a padding exceeds `k − 1` (then some outputs see no input at all).
    public var inputGradientPlan: DirectConvPlan? {
        let pads = [kernelH - 1 - padTop, kernelH - 1 - padBottom, kernelW - 1 - padLeft, kernelW - 1 - padRight]
        guard pads.allSatisfy({ $0 >= 0 }) else { return nil }
        return DirectConvPlan(channels: filters, height: outHeight, width: outWidth, filters: channels,
                              kernelH: kernelH, kernelW: kernelW,
                              padTop: pads[0], padBottom: pads[1], padLeft: pads[2], padRight: pads[3])
    }

    /// The share of the computed positions that are outputs (the rest is padding columns and
    /// rounding to whole vectors): 0.94 at 32x32 with a 3x3 kernel, 0.8 at 8x8.
    public var usefulFraction: Double { Double(outHeight * outWidth) / Double(vectors * Self.lanes) }

    public var filterBlocks: Int { (filters + Self.filterBlock - 1) / Self.filterBlock }
    public var kernelArea: Int { kernelH * kernelW }
    /// Floats of the packed weights, `[filterBlocks][C][kh][kw][8]`.
    public var packedWeightFloats: Int { filterBlocks * Self.filterBlock * channels * kernelArea }
    /// Floats of the stage, `[8·filterBlocks][stageRow]`.
    public var stageFloats: Int { filterBlocks * Self.filterBlock * stageRow }
    /// Floats read past the last padded plane: a 3-vector block's overrun, the furthest tap, and
    /// the weight gradient's tap group of three.
    var tail: Int { stageRow - vectors * Self.lanes + (kernelH - 1) * paddedWidth + kernelW + 2 }
    /// Floats of `images` padded images `[images][C][planeStride]` and the zeroed tail.
    public func paddedFloats(images: Int) -> Int { images * channels * planeStride + tail }
    /// Floats of `images` spread output gradients `[images][F][planeStride]`.
    public func spreadFloats(images: Int) -> Int { images * filters * planeStride }
}
