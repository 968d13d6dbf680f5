/// The copies around the kernels: weights into register-block order, images into padded planes,
/// output gradients onto the flat rows, and the stage back into `[F, OH, OW]`.
extension DirectConvPlan {
    /// `w: [F, C, kh, kw]` → the kernel's packed order `[fb][c][i][j][8]`. With `flipped`, `w` is
    /// `[C, F, kh, kw]` and this plan's filter `f`, channel `c`, tap `(i, j)` reads
    /// `w[c, f, kh−1−i, kw−1−j]` (the stride-1 input-gradient plan).
    public func pack(weights w: UnsafePointer<Float>, flipped: Bool, into packed: UnsafeMutablePointer<Float>) {
        let block = DirectConvKernel.filterBlock, area = kernelArea
        for fb in 0..<kernel.filterBlocks {
            for c in 0..<channels {
                for t in 0..<area {
                    let out = packed + ((fb * channels + c) * area + t) * block
                    for lane in 0..<block {
                        let f = fb * block + lane
                        guard f < filters else { out[lane] = 0; continue }
                        out[lane] = flipped ? w[(c * filters + f) * area + (area - 1 - t)] : w[(f * channels + c) * area + t]
                    }
                }
            }
        }
    }

    /// `images` NCHW images `[C, H, W]` → zero-padded planes `[images][C][planeStride]` (stride 2:
    /// their phases, `[images][C][4][planeStride]`), then the zeroed tail. Every float of
    /// `paddedFloats(images:)` is written.
    public func pad(_ x: UnsafePointer<Float>, images: Int, into xp: UnsafeMutablePointer<Float>) {
        defer { zero(xp + images * planes * planeStride, tail) }
        if stride == 2 {
            for p in 0..<images * channels {
                splitPhases(x + p * height * width, height: height, width: width, padTop: padTop, padLeft: padLeft,
                            pitch: pitch, phaseStride: planeStride, into: xp + p * 4 * planeStride)
            }
            return
        }
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
    }

    /// `images` output gradients `[F, OH, OW]` → flat rows `[images][F][planeStride]`:
    /// `dys[f][oy·pitch + ox] = dy[f, oy, ox]`, zero at `ox ≥ OW` and past `OH·Wp` up to the plane's end,
    /// so the weight gradient may sum over whole vectors.
    public func spread(_ dy: UnsafePointer<Float>, images: Int, into dys: UnsafeMutablePointer<Float>) {
        let wp = pitch
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
        let wp = pitch
        for f in 0..<filters {
            for oy in 0..<outHeight {
                let src = stage + f * stageRow + oy * wp, dst = y + (f * outHeight + oy) * outWidth
                if adding { add(src, dst, outWidth) } else { copy(src, dst, outWidth) }
            }
        }
    }
}

/// One plane `[H, W]` → the four phases of its zero-padded plane, `P_ab[y][x] = xp[2y + a][2x + b]`,
/// each `phaseStride` floats with rows of `pitch` (every float written). Each source row is read
/// once and split into its even and odd columns, sixteen (or eight) of each per step: with an even left
/// padding the evens go to phase b = 0, with an odd one to b = 1.
func splitPhases(_ src: UnsafePointer<Float>, height h: Int, width w: Int, padTop: Int, padLeft: Int, pitch: Int,
                 phaseStride: Int, into planes: UnsafeMutablePointer<Float>) {
    let evenPhase = padLeft % 2, evenStart = padLeft / 2, oddStart = (padLeft + 1) / 2
    let (evens, odds) = ((w + 1) / 2, w / 2)
    zero(planes, 4 * phaseStride)
    for sy in 0..<h {
        let py = sy + padTop, (a, y) = (py % 2, py / 2), row = src + sy * w
        let evenRow = planes + (a * 2 + evenPhase) * phaseStride + y * pitch + evenStart
        let oddRow = planes + (a * 2 + 1 - evenPhase) * phaseStride + y * pitch + oddStart
        var k = 0
        while 2 * k + 32 <= w {
            let v = UnsafeRawPointer(row + 2 * k).loadUnaligned(as: SIMD32<Float>.self)
            store(v.evenHalf, evenRow + k)
            store(v.oddHalf, oddRow + k)
            k += 16
        }
        if 2 * k + 16 <= w {
            let v = load(row + 2 * k)
            UnsafeMutableRawPointer(evenRow + k).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(oddRow + k).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
            k += 8
        }
        for e in k..<evens { evenRow[e] = row[2 * e] }
        for o in k..<odds { oddRow[o] = row[2 * o + 1] }
    }
}

// Rows here are short (8 to 64 floats) and many: inline vector loops instead of a memcpy or
// memset call per row, whose call overhead dominated such short rows.

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
