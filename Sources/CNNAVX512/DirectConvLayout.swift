/// The copies around the kernels: weights into register-block order, images into padded planes,
/// output gradients onto the flat rows, and the stage back into `[F, OH, OW]`.
extension DirectConvPlan {
    /// `w: [F, C, kh, kw]` → `packed[fb][c][i][j][8]`: the eight filters of a block side by side per
    /// tap, zero for filters past F. With `flipped`, `w` is `[C, F, kh, kw]` and this plan's
    /// filter `f`, channel `c`, tap `(i, j)` reads `w[c, f, kh−1−i, kw−1−j]` (the input-gradient plan).
    public func pack(weights w: UnsafePointer<Float>, flipped: Bool, into packed: UnsafeMutablePointer<Float>) {
        let fbSize = Self.filterBlock, area = kernelArea
        for fb in 0..<filterBlocks {
            for c in 0..<channels {
                for t in 0..<area {
                    let out = packed + ((fb * channels + c) * area + t) * fbSize
                    for lane in 0..<fbSize {
                        let f = fb * fbSize + lane
                        guard f < filters else { out[lane] = 0; continue }
                        out[lane] = flipped ? w[(c * filters + f) * area + (area - 1 - t)] : w[(f * channels + c) * area + t]
                    }
                }
            }
        }
    }

    /// `images` NCHW images `[C, H, W]` → zero-padded planes `[images][C][planeStride]`, then the
    /// zeroed tail. Every float of `paddedFloats(images:)` is written.
    public func pad(_ x: UnsafePointer<Float>, images: Int, into xp: UnsafeMutablePointer<Float>) {
        let wp = paddedWidth
        for p in 0..<images * channels {
            let src = x + p * height * width, dst = xp + p * planeStride
            zero(dst, padTop * wp + padLeft)
            for y in 0..<height {
                let row = dst + (padTop + y) * wp + padLeft
                copy(src + y * width, row, width)
                // Right padding of this row and left padding of the next are adjacent.
                zero(row + width, padRight + (y + 1 < height ? padLeft : 0))
            }
            let done = (padTop + height) * wp
            zero(dst + done, planeStride - done)
        }
        zero(xp + images * channels * planeStride, tail)
    }

    /// `images` output gradients `[F, OH, OW]` → flat rows `[images][F][planeStride]`:
    /// `dys[f][oy·Wp + ox] = dy[f, oy, ox]`, zero at `ox ≥ OW` and past `OH·Wp` up to the plane's end,
    /// so the weight gradient may sum over whole vectors.
    public func spread(_ dy: UnsafePointer<Float>, images: Int, into dys: UnsafeMutablePointer<Float>) {
        let wp = paddedWidth
        for p in 0..<images * filters {
            let src = dy + p * outHeight * outWidth, dst = dys + p * planeStride
            for y in 0..<outHeight {
                copy(src + y * outWidth, dst + y * wp, outWidth)
                zero(dst + y * wp + outWidth, wp - outWidth)
            }
            zero(dst + outHeight * wp, planeStride - outHeight * wp)
        }
    }

    /// The stage's valid columns into one image's `y: [F, OH, OW]`, written or added.
    public func scatter(_ stage: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, adding: Bool) {
        let wp = paddedWidth
        for f in 0..<filters {
            for oy in 0..<outHeight {
                let src = stage + f * stageRow + oy * wp, dst = y + (f * outHeight + oy) * outWidth
                if adding { add(src, dst, outWidth) } else { copy(src, dst, outWidth) }
            }
        }
    }
}

// Rows here are short (8 to 64 floats) and many: inline vector loops instead of a memcpy or
// memset call per row (measured: those calls were 9% of a ResNet-20 training step).

@inline(__always)
func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n { store(load(src + i), dst + i); i &+= 16 }
    while i < n { dst[i] = src[i]; i &+= 1 }
}

@inline(__always)
func add(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n { store(load(src + i) + load(dst + i), dst + i); i &+= 16 }
    while i < n { dst[i] += src[i]; i &+= 1 }
}

@inline(__always)
func zero(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n { store(Vector(), dst + i); i &+= 16 }
    while i < n { dst[i] = 0; i &+= 1 }
}
