import CNNCore

/// Depthwise convolution (one filter per channel) on the same zero-padded planes: this plan's
/// `channels` are the depthwise channels and `filters` must equal them. Each output vector needs
/// its own input vector per tap, so the kernels are bound by loads, not FMAs; six independent
/// accumulators (96 outputs) keep the FMA latency hidden.
extension DirectConvPlan {
    /// Floats past the stage and the padded planes that a 6-vector block may touch beyond a
    /// 3-vector-rounded row (the overrun of the last channel's row).
    public static let depthwiseSlack = 3 * 16

    /// One image: `stage[c][q] = Σ_ij w[c, i, j] · xp[c][q + i·Wp + j]` for `q < stageRow`
    /// (`w: [C, kh, kw]`; the stage needs `stageFloats + depthwiseSlack` floats and `xp` that many
    /// past `paddedFloats(images: 1)`; a block's overrun into the next row is rewritten there).
    public func depthwiseForward(padded xp: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                 stage: UnsafeMutablePointer<Float>) {
        let (wp, kh, kw, area) = (pitch, kernelH, kernelW, kernelArea)
        for c in 0..<channels {
            let plane = xp + c * planeStride, out = stage + c * stageRow, taps = w + c * area
            for q in Swift.stride(from: 0, to: stageRow, by: 96) {
                depthwiseBlock(kh: kh, kw: kw, taps: taps, out: out + q) { i, j in UnsafeRawPointer(plane + q + i * wp + j) }
            }
        }
    }

    /// `dw[c, i, j] += Σ_images Σ_q dys[c][q] · xp[c][q + i·Wp + j]` (`pad`, `spread`). One sweep of
    /// a channel's positions per kernel row and group of three taps: each dY vector feeds the
    /// three taps' FMAs, two vectors at a time (six accumulators); the plane stays in L1 across
    /// the sweeps. A tap past kw reads beyond the row and is dropped.
    public func depthwiseWeightGradient(padded xp: UnsafePointer<Float>, spread dys: UnsafePointer<Float>,
                                        images: Int, into dw: UnsafeMutablePointer<Float>) {
        let (wp, kh, kw, n) = (pitch, kernelH, kernelW, vectors)
        for b in 0..<images {
            for c in 0..<channels {
                let plane = xp + (b * channels + c) * planeStride
                let d = UnsafeRawPointer(dys + (b * filters + c) * planeStride)
                for i in 0..<kh {
                    for j0 in Swift.stride(from: 0, to: kw, by: 3) {
                        let x = UnsafeRawPointer(plane + i * wp + j0)
                        var (a0, a1, a2, b0, b1, b2) = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
                        var v = 0
                        while v + 2 <= n {
                            let o = v * 16, g = load(d, o), h = load(d, o + 16)
                            a0.addProduct(g, load(x, o)); a1.addProduct(g, load(x, o + 1)); a2.addProduct(g, load(x, o + 2))
                            b0.addProduct(h, load(x, o + 16)); b1.addProduct(h, load(x, o + 17)); b2.addProduct(h, load(x, o + 18))
                            v += 2
                        }
                        if v < n {
                            let o = v * 16, g = load(d, o)
                            a0.addProduct(g, load(x, o)); a1.addProduct(g, load(x, o + 1)); a2.addProduct(g, load(x, o + 2))
                        }
                        let out = dw + c * kernelArea + i * kw + j0
                        out[0] += FastMath.laneSum(a0 + b0)
                        if j0 + 1 < kw { out[1] += FastMath.laneSum(a1 + b1) }
                        if j0 + 2 < kw { out[2] += FastMath.laneSum(a2 + b2) }
                    }
                }
            }
        }
    }

    /// `flipped[c, i, j] = w[c, kh−1−i, kw−1−j]`: the input gradient's depthwise weights.
    public func flipDepthwise(_ w: UnsafePointer<Float>, into flipped: UnsafeMutablePointer<Float>) {
        let area = kernelArea
        for c in 0..<channels {
            for t in 0..<area { flipped[c * area + t] = w[c * area + area - 1 - t] }
        }
    }
}

/// Six output vectors (96 neighbouring outputs) of one depthwise channel, stored at `out`: for
/// each tap `(i, j)`, its broadcast weight times the six vectors from `source(i, j)` on. Shared by
/// the stride-1 kernel (one padded plane) and the stride-2 one (the plane's phases).
@inline(__always)
func depthwiseBlock(kh: Int, kw: Int, taps: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                    source: (Int, Int) -> UnsafeRawPointer) {
    var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector(), a4 = Vector(), a5 = Vector()
    for i in 0..<kh {
        for j in 0..<kw {
            let p = source(i, j), b = Vector(repeating: taps[i * kw + j])
            a0.addProduct(b, load(p)); a1.addProduct(b, load(p, 16)); a2.addProduct(b, load(p, 32))
            a3.addProduct(b, load(p, 48)); a4.addProduct(b, load(p, 64)); a5.addProduct(b, load(p, 80))
        }
    }
    store(a0, out); store(a1, out + 16); store(a2, out + 32); store(a3, out + 48); store(a4, out + 64); store(a5, out + 80)
}
