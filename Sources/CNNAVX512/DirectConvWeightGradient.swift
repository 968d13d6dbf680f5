import CNNCore

extension DirectConvPlan {
    /// Positions summed per visit of a (filter block, group of taps): at least this many vectors,
    /// so the lane reductions at the end of a visit stay a small share of its FMAs while the
    /// visited dY rows (8 filters) and input rows stay in L1 (the choice among 32 to 256 is
    /// measured in docs/PERFORMANCE.md).
    static let visitVectors = 64

    /// `dw[f, t] += Σ_images Σ_q dys[f][q] · xp[q + taps[t]]`, `dw: [F, C, kh, kw]`, over `images`
    /// padded images (`pad`) and their spread output gradients (`spread`), whose zeros at the
    /// garbage columns keep those positions out of the sum.
    ///
    /// Register block: 8 filters × 3 taps, consecutive in `[C][kh][kw]` order. Per vector of
    /// positions, 8 loads of dY and 3 loads of the input feed 24 FMAs; the accumulators run over a
    /// group of images (`visitVectors`) and are then reduced across lanes. A filter block past F
    /// reads the last filter's rows again, and the last group of taps repeats its last tap; both
    /// are dropped.
    public func weightGradient(padded xp: UnsafePointer<Float>, spread dys: UnsafePointer<Float>, images: Int,
                               into dw: UnsafeMutablePointer<Float>) {
        let taps = kernel.taps, count = taps.count, block = DirectConvKernel.filterBlock
        let group = max(1, Self.visitVectors / vectors)
        for start in Swift.stride(from: 0, to: images, by: group) {
            let visited = start..<min(images, start + group)
            for fb in 0..<kernel.filterBlocks {
                for t in Swift.stride(from: 0, to: count, by: 3) {
                    let o = (taps[t], taps[min(t + 1, count - 1)], taps[min(t + 2, count - 1)])
                    let sums = TapSums(dw: dw + fb * block * count + t, rowStride: count,
                                       filters: min(block, filters - fb * block), taps: min(3, count - t))
                    // Three neighbours in a row (stride 1) load at fixed displacements from one
                    // pointer, which the compiler folds into the loads' addressing.
                    if o.1 == o.0 + 1 && o.2 == o.0 + 2 {
                        visit(first: o.0, 1, 2, filterBlock: fb, images: visited, padded: xp, spread: dys, into: sums)
                    } else {
                        visit(first: o.0, o.1 - o.0, o.2 - o.0, filterBlock: fb, images: visited, padded: xp,
                              spread: dys, into: sums)
                    }
                }
            }
        }
    }

    /// One visit: the 8 × 3 sums of filter block `fb` and the taps at offsets `o0`, `o0 + d1` and
    /// `o0 + d2` over `images` (inlined twice, once with the constant displacements 1 and 2).
    @inline(__always)
    private func visit(first o0: Int, _ d1: Int, _ d2: Int, filterBlock fb: Int, images: Range<Int>,
                       padded xp: UnsafePointer<Float>, spread dys: UnsafePointer<Float>, into sums: TapSums) {
        let (stride, n, imageFloats) = (planeStride, vectors, planes * planeStride)
        let first = fb * DirectConvKernel.filterBlock, last = filters - 1
        let (r0, r1, r2, r3) = (min(first, last) * stride, min(first + 1, last) * stride,
                                min(first + 2, last) * stride, min(first + 3, last) * stride)
        let (r4, r5, r6, r7) = (min(first + 4, last) * stride, min(first + 5, last) * stride,
                                min(first + 6, last) * stride, min(first + 7, last) * stride)
        var a00 = Vector(), a01 = Vector(), a02 = Vector(), a10 = Vector(), a11 = Vector(), a12 = Vector()
        var a20 = Vector(), a21 = Vector(), a22 = Vector(), a30 = Vector(), a31 = Vector(), a32 = Vector()
        var a40 = Vector(), a41 = Vector(), a42 = Vector(), a50 = Vector(), a51 = Vector(), a52 = Vector()
        var a60 = Vector(), a61 = Vector(), a62 = Vector(), a70 = Vector(), a71 = Vector(), a72 = Vector()
        for b in images {
            // The image's first tap and its dY, advanced one vector per step.
            var x = UnsafeRawPointer(xp + (b &* imageFloats &+ o0))
            var d = UnsafeRawPointer(dys + b &* filters &* stride)
            for _ in 0..<n {
                let x0 = load(x), x1 = load(x, d1), x2 = load(x, d2)
                var g = load(d, r0)
                a00.addProduct(g, x0); a01.addProduct(g, x1); a02.addProduct(g, x2)
                g = load(d, r1)
                a10.addProduct(g, x0); a11.addProduct(g, x1); a12.addProduct(g, x2)
                g = load(d, r2)
                a20.addProduct(g, x0); a21.addProduct(g, x1); a22.addProduct(g, x2)
                g = load(d, r3)
                a30.addProduct(g, x0); a31.addProduct(g, x1); a32.addProduct(g, x2)
                g = load(d, r4)
                a40.addProduct(g, x0); a41.addProduct(g, x1); a42.addProduct(g, x2)
                g = load(d, r5)
                a50.addProduct(g, x0); a51.addProduct(g, x1); a52.addProduct(g, x2)
                g = load(d, r6)
                a60.addProduct(g, x0); a61.addProduct(g, x1); a62.addProduct(g, x2)
                g = load(d, r7)
                a70.addProduct(g, x0); a71.addProduct(g, x1); a72.addProduct(g, x2)
                x += 64; d += 64
            }
        }
        sums.add(0, a00, a01, a02); sums.add(1, a10, a11, a12); sums.add(2, a20, a21, a22); sums.add(3, a30, a31, a32)
        sums.add(4, a40, a41, a42); sums.add(5, a50, a51, a52); sums.add(6, a60, a61, a62); sums.add(7, a70, a71, a72)
    }
}

/// Where a visit's lane sums go: `dw[r·rowStride + k] += Σ lanes` for the block's real filters and taps.
private struct TapSums {
    let dw: UnsafeMutablePointer<Float>, rowStride: Int, filters: Int, taps: Int

    @inline(__always)
    func add(_ r: Int, _ s0: Vector, _ s1: Vector, _ s2: Vector) {
        guard r < filters else { return }
        let out = dw + r * rowStride
        out[0] += FastMath.laneSum(s0)
        if taps > 1 { out[1] += FastMath.laneSum(s1) }
        if taps > 2 { out[2] += FastMath.laneSum(s2) }
    }
}
