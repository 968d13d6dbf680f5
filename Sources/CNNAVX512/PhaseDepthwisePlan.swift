/// The forward pass of a depthwise convolution with stride 2 (one filter per channel), on the
/// four phases of each zero-padded plane: `P_ab[y][x] = x_p[2y + a][2x + b]`, so tap `(i, j)` of
/// output `(oy, ox)` reads `P_{i mod 2, j mod 2}[oy + ⌊i/2⌋][ox + ⌊j/2⌋]` and sixteen neighbouring
/// outputs read sixteen neighbouring floats again (polyphase decomposition). Each phase plane is
/// `Hq × Wq` (`⌈Hp/2⌉ × ⌈Wp/2⌉`), output `q = oy·Wq + ox`; columns `ox ≥ OW` are dropped when
/// the stage is scattered. Only called where `CPUFeatures.avx512Kernels` holds.
public struct PhaseDepthwisePlan: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int
    public let padTop: Int, padLeft: Int
    public let outHeight: Int, outWidth: Int
    let phaseHeight: Int, phaseWidth: Int
    /// Sixteen-float vectors covering `0..<OH·Wq`, and the stage row (whole 6-vector blocks).
    let vectors: Int, stageRow: Int
    /// Floats between phase planes: a block's reach past the last output row stays inside.
    let phaseStride: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                padTop: Int, padBottom: Int, padLeft: Int, padRight: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.padTop = padTop; self.padLeft = padLeft
        let (hp, wp) = (height + padTop + padBottom, width + padLeft + padRight)
        outHeight = (hp - kernelH) / 2 + 1
        outWidth = (wp - kernelW) / 2 + 1
        phaseHeight = (hp + 1) / 2
        phaseWidth = (wp + 1) / 2
        vectors = (outHeight * phaseWidth + 15) / 16
        stageRow = (vectors + 5) / 6 * 96
        let reach = stageRow + (kernelH - 1) / 2 * phaseWidth + (kernelW - 1) / 2
        phaseStride = max(phaseHeight * phaseWidth, reach)
    }

    /// Floats of one image's phase planes `[C][4][phaseStride]` and of its stage `[C][stageRow]`.
    public var phaseFloats: Int { channels * 4 * phaseStride }
    public var stageFloats: Int { channels * stageRow }

    /// One image `[C, H, W]` → its zero-padded planes' four phases each (every float written).
    public func deinterleave(_ x: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            splitPhases(x + c * height * width, height: height, width: width, padTop: padTop, padLeft: padLeft,
                        pitch: phaseWidth, phaseStride: phaseStride, into: phases + c * 4 * phaseStride)
        }
    }

    /// `stage[c][q] = Σ_ij w[c, i, j] · P_{i mod 2, j mod 2}[c][q + ⌊i/2⌋·Wq + ⌊j/2⌋]`, `w: [C, kh, kw]`,
    /// in `depthwiseBlock`s of 96 outputs.
    public func forward(phases: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                        stage: UnsafeMutablePointer<Float>) {
        let (wq, kh, kw) = (phaseWidth, kernelH, kernelW)
        for c in 0..<channels {
            let planes = phases + c * 4 * phaseStride, out = stage + c * stageRow, taps = w + c * kh * kw
            for q in Swift.stride(from: 0, to: stageRow, by: 96) {
                depthwiseBlock(kh: kh, kw: kw, taps: taps, out: out + q) { i, j in
                    UnsafeRawPointer(planes + ((i % 2) * 2 + j % 2) * phaseStride + q + (i / 2) * wq + j / 2)
                }
            }
        }
    }

    /// The stage's valid columns into one image's `y: [C, OH, OW]`.
    public func scatter(_ stage: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for oy in 0..<outHeight {
                copy(stage + c * stageRow + oy * phaseWidth, y + (c * outHeight + oy) * outWidth, outWidth)
            }
        }
    }
}
