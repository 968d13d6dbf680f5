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
        let (wp, kh, kw, area) = (paddedWidth, kernelH, kernelW, kernelArea)
        for c in 0..<channels {
            let plane = xp + c * planeStride, out = stage + c * stageRow, taps = w + c * area
            for q in Swift.stride(from: 0, to: stageRow, by: 96) {
                var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector(), a4 = Vector(), a5 = Vector()
                for i in 0..<kh {
                    let row = plane + q + i * wp
                    for j in 0..<kw {
                        let p = UnsafeRawPointer(row + j), b = Vector(repeating: taps[i * kw + j])
                        a0.addProduct(b, load(p)); a1.addProduct(b, load(p, 16)); a2.addProduct(b, load(p, 32))
                        a3.addProduct(b, load(p, 48)); a4.addProduct(b, load(p, 64)); a5.addProduct(b, load(p, 80))
                    }
                }
                let o = out + q
                store(a0, o); store(a1, o + 16); store(a2, o + 32); store(a3, o + 48); store(a4, o + 64); store(a5, o + 80)
            }
        }
    }

    /// `dw[c, i, j] += Σ_images Σ_q dys[c][q] · xp[c][q + i·Wp + j]` (`pad`, `spread`; one tap per
    /// sweep of a channel's positions, four accumulators; the plane stays in L1 across the taps).
    public func depthwiseWeightGradient(padded xp: UnsafePointer<Float>, spread dys: UnsafePointer<Float>,
                                        images: Int, into dw: UnsafeMutablePointer<Float>) {
        let (wp, kw, n) = (paddedWidth, kernelW, vectors)
        for b in 0..<images {
            for c in 0..<channels {
                let plane = xp + (b * channels + c) * planeStride
                let d = UnsafeRawPointer(dys + (b * filters + c) * planeStride)
                for t in 0..<kernelArea {
                    let x = UnsafeRawPointer(plane + (t / kw) * wp + t % kw)
                    var (s0, s1, s2, s3) = (Vector(), Vector(), Vector(), Vector())
                    var v = 0
                    while v + 4 <= n {
                        let o = v * 16
                        s0.addProduct(load(d, o), load(x, o)); s1.addProduct(load(d, o + 16), load(x, o + 16))
                        s2.addProduct(load(d, o + 32), load(x, o + 32)); s3.addProduct(load(d, o + 48), load(x, o + 48))
                        v += 4
                    }
                    while v < n { s0.addProduct(load(d, v * 16), load(x, v * 16)); v += 1 }
                    dw[c * kernelArea + t] += ((s0 + s1) + (s2 + s3)).sum()
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
