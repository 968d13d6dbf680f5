/// The four transforms of F(2×2, 3×3), each applied along the columns and then along the rows:
///
///     Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
///          | 0  1  1  0 |         | 1/2  1/2  1/2 |          | 0  1 −1 −1 |
///          | 0 −1  1  0 |         | 1/2 −1/2  1/2 |
///          | 0  1  0 −1 |         | 0    0    1  |
///
/// Along the rows a tile row's four columns 2t…2t+3 are the even and odd columns t and t + 1, so
/// each row is split into its even and odd columns first and every loop below reads and writes
/// contiguous runs of tiles (they vectorize).
extension WinogradPlan {
    /// Floats of a scratch row: a padded input row, split 16 floats at a time even when only a
    /// few tiles of the last 8 remain.
    var rowFloats: Int { 2 * ((tilesW + 7) / 8 * 8) + 16 }

    /// `V[ξ][c][column + t] = (Bᵀ d B)[ξ]` for every tile t of one image `[C, H, W]`, rows `stride`
    /// floats apart. Per channel, first Bᵀ along the columns for every tile row into scratch rows
    /// (rows outside the image read a zero row; the padding columns stay zero, no write touches
    /// them), then Bᵀ along the rows. Done a tile row at a time, the second step's loads would
    /// straddle the first's stores just issued, which the store buffer cannot forward (measured:
    /// half of the transform's time).
    func transformInput(_ x: UnsafePointer<Float>, rows: Range<Int>, into v: UnsafeMutablePointer<Float>, column: Int,
                        stride n: Int, scratch: UnsafeMutablePointer<Float>) {
        let rowFloats = rowFloats, s = scratch - 4 * rows.lowerBound * rowFloats, zero = scratch + 4 * tilesH * rowFloats
        scratch.update(repeating: 0, count: 4 * rows.count * rowFloats)
        zero.update(repeating: 0, count: width)
        let position = channels * n
        for c in 0..<channels {
            let plane = x + c * height * width
            for ty in rows {
                let r = 2 * ty - padTop
                let d0 = r >= 0 && r < height ? plane + r * width : UnsafePointer(zero)
                let d1 = r + 1 >= 0 && r + 1 < height ? plane + (r + 1) * width : UnsafePointer(zero)
                let d2 = r + 2 >= 0 && r + 2 < height ? plane + (r + 2) * width : UnsafePointer(zero)
                let d3 = r + 3 >= 0 && r + 3 < height ? plane + (r + 3) * width : UnsafePointer(zero)
                let s0 = s + 4 * ty * rowFloats + padLeft, s1 = s0 + rowFloats, s2 = s1 + rowFloats, s3 = s2 + rowFloats
                var i = 0
                while i + 8 <= width {
                    let a = load8(d0 + i), b = load8(d1 + i), c = load8(d2 + i), d = load8(d3 + i)
                    store8(a - c, s0 + i); store8(b + c, s1 + i); store8(c - b, s2 + i); store8(b - d, s3 + i)
                    i += 8
                }
                while i < width {
                    s0[i] = d0[i] - d2[i]; s1[i] = d1[i] + d2[i]; s2[i] = d2[i] - d1[i]; s3[i] = d1[i] - d3[i]
                    i += 1
                }
            }
            for ty in rows {
                for k in 0..<4 {
                    let row = s + (4 * ty + k) * rowFloats
                    let v0 = v + 4 * k * position + c * n + column + (ty - rows.lowerBound) * tilesW
                    let v1 = v0 + position, v2 = v1 + position, v3 = v2 + position
                    var t = 0
                    while t < tilesW {
                        // Tile t's columns 2t…2t+3 are even[t], odd[t], even[t + 1], odd[t + 1].
                        let here = load16(row + 2 * t), next = load16(row + 2 * t + 2)
                        let e = here.evenHalf, o = here.oddHalf, e1 = next.evenHalf, o1 = next.oddHalf
                        storePrefix(e - e1, v0 + t, count: tilesW - t)
                        storePrefix(o + e1, v1 + t, count: tilesW - t)
                        storePrefix(e1 - o, v2 + t, count: tilesW - t)
                        storePrefix(o - o1, v3 + t, count: tilesW - t)
                        t += 8
                    }
                }
            }
        }
    }

    /// `y[f] (+)= Aᵀ M A` for one image's tiles, `M[ξ][f][column + t]` with rows `stride` floats
    /// apart; a half-used last tile's extra row or column is dropped.
    func transformOutput(_ m: UnsafePointer<Float>, rows: Range<Int>, column: Int, stride n: Int,
                         into y: UnsafeMutablePointer<Float>, adding: Bool, scratch: UnsafeMutablePointer<Float>) {
        let p = filters * n, y0 = scratch, y1 = scratch + rowFloats
        for f in 0..<filters {
            for ty in rows {
                let m0 = m + f * n + column + (ty - rows.lowerBound) * tilesW
                var t = 0
                while t < tilesW {
                    func at(_ xi: Int) -> SIMD8<Float> { load8(m0 + xi * p + t) }
                    // Aᵀ along the columns: rows M0 + M1 + M2 and M1 − M2 − M3 of each 4×4 tile,
                    // then along the rows.
                    let a0 = at(0) + at(4) + at(8), a1 = at(1) + at(5) + at(9)
                    let a2 = at(2) + at(6) + at(10), a3 = at(3) + at(7) + at(11)
                    let b0 = at(4) - at(8) - at(12), b1 = at(5) - at(9) - at(13)
                    let b2 = at(6) - at(10) - at(14), b3 = at(7) - at(11) - at(15)
                    store16(interleave(a0 + a1 + a2, a1 - a2 - a3), y0 + 2 * t)
                    store16(interleave(b0 + b1 + b2, b1 - b2 - b3), y1 + 2 * t)
                    t += 8
                }
                let out = y + (f * outHeight + 2 * ty) * outWidth
                Self.store(y0, into: out, count: outWidth, adding: adding)
                if 2 * ty + 1 < outHeight { Self.store(y1, into: out + outWidth, count: outWidth, adding: adding) }
            }
        }
    }

    private static func store(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, adding: Bool) {
        guard adding else { return out.update(from: row, count: count) }
        var i = 0
        while i + 8 <= count {
            store8(load8(out + i) + load8(row + i), out + i)
            i += 8
        }
        while i < count {
            out[i] += row[i]
            i += 1
        }
    }

    /// `D[ξ][f][column + t] = (A dy Aᵀ)[ξ]` for every 2×2 tile of one image's output gradient
    /// `[F, OH, OW]` (past an odd side the tile reads zeros); per filter all tile rows along the
    /// columns first, as in `transformInput`.
    func transformOutputGradient(_ dy: UnsafePointer<Float>, rows: Range<Int>, into d: UnsafeMutablePointer<Float>,
                                 column: Int, stride n: Int, scratch: UnsafeMutablePointer<Float>) {
        let rowFloats = rowFloats, s = scratch - 4 * rows.lowerBound * rowFloats, zero = scratch + 4 * tilesH * rowFloats
        scratch.update(repeating: 0, count: 4 * rows.count * rowFloats)
        zero.update(repeating: 0, count: outWidth)
        let position = filters * n
        for f in 0..<filters {
            for ty in rows {
                let a = dy + (f * outHeight + 2 * ty) * outWidth
                let b = 2 * ty + 1 < outHeight ? a + outWidth : UnsafePointer(zero)
                let s0 = s + 4 * ty * rowFloats, s1 = s0 + rowFloats, s2 = s1 + rowFloats, s3 = s2 + rowFloats
                var i = 0
                while i + 8 <= outWidth {
                    let x = load8(a + i), y = load8(b + i)
                    store8(x, s0 + i); store8(x + y, s1 + i); store8(x - y, s2 + i); store8(-y, s3 + i)
                    i += 8
                }
                while i < outWidth {
                    s0[i] = a[i]; s1[i] = a[i] + b[i]; s2[i] = a[i] - b[i]; s3[i] = -b[i]
                    i += 1
                }
            }
            for ty in rows {
                for k in 0..<4 {
                    let row = s + (4 * ty + k) * rowFloats
                    let d0 = d + 4 * k * position + f * n + column + (ty - rows.lowerBound) * tilesW
                    let d1 = d0 + position, d2 = d1 + position, d3 = d2 + position
                    var t = 0
                    while t < tilesW {
                        let here = load16(row + 2 * t), e = here.evenHalf, o = here.oddHalf
                        storePrefix(e, d0 + t, count: tilesW - t)
                        storePrefix(e + o, d1 + t, count: tilesW - t)
                        storePrefix(e - o, d2 + t, count: tilesW - t)
                        storePrefix(-o, d3 + t, count: tilesW - t)
                        t += 8
                    }
                }
            }
        }
    }

    /// `U[ξ][f][c] = (G g Gᵀ)[ξ]` from weights `[F, C, 3, 3]`; `flipped`: from the forward
    /// layer's weights `[C, F, 3, 3]` (this plan being its `inputGradientPlan`), each kernel
    /// rotated by 180°. The worker pool's parts take a share of the filters each.
    public func transformWeights(_ w: UnsafePointer<Float>, flipped: Bool, into u: UnsafeMutablePointer<Float>) {
        WorkerPool.shared.forEachRange(filters, itemSize: Self.positions * channels,
                                       WeightTransform(plan: self, w: w, flipped: flipped, u: u))
    }

    struct WeightTransform: RangeWork {
        let plan: WinogradPlan, w: UnsafePointer<Float>, flipped: Bool, u: UnsafeMutablePointer<Float>
        func run(_ range: Range<Int>) { plan.transformWeights(w, flipped: flipped, filters: range, into: u) }
    }

    func transformWeights(_ w: UnsafePointer<Float>, flipped: Bool, filters range: Range<Int>,
                          into u: UnsafeMutablePointer<Float>) {
        let position = filters * channels
        for f in range {
            for c in 0..<channels {
                let g = flipped ? w + (c * filters + f) * 9 : w + (f * channels + c) * 9
                let out = u + f * channels + c
                // One row r of G g, (t0, t1, t2), then G along it: t0, (t0 + t1 + t2)/2, (t0 − t1 + t2)/2, t2.
                func emit(_ r: Int, _ t0: Float, _ t1: Float, _ t2: Float) {
                    out[4 * r * position] = t0
                    out[(4 * r + 1) * position] = (t0 + t1 + t2) / 2
                    out[(4 * r + 2) * position] = (t0 - t1 + t2) / 2
                    out[(4 * r + 3) * position] = t2
                }
                // Kernel rows a, b, c (each rotated by 180° when flipped); G's rows are
                // a, (a + b + c)/2, (a − b + c)/2, c.
                let (a0, a1, a2) = flipped ? (g[8], g[7], g[6]) : (g[0], g[1], g[2])
                let (b0, b1, b2) = flipped ? (g[5], g[4], g[3]) : (g[3], g[4], g[5])
                let (c0, c1, c2) = flipped ? (g[2], g[1], g[0]) : (g[6], g[7], g[8])
                emit(0, a0, a1, a2)
                emit(1, (a0 + b0 + c0) / 2, (a1 + b1 + c1) / 2, (a2 + b2 + c2) / 2)
                emit(2, (a0 - b0 + c0) / 2, (a1 - b1 + c1) / 2, (a2 - b2 + c2) / 2)
                emit(3, c0, c1, c2)
            }
        }
    }

    /// `dW[f][c] += Gᵀ Ŵ[·][f][c] G` for weights `[F, C, 3, 3]`.
    public func addWeightGradient(_ transformed: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let position = filters * channels
        for f in 0..<filters {
            for c in 0..<channels {
                let z = transformed + f * channels + c, out = dw + (f * channels + c) * 9
                // Row i of Gᵀ Ŵ, (s0, s1, s2, s3), then Gᵀ along it: s0 + (s1 + s2)/2, (s1 − s2)/2, (s1 + s2)/2 + s3.
                func add(_ i: Int, _ s0: Float, _ s1: Float, _ s2: Float, _ s3: Float) {
                    out[3 * i] += s0 + (s1 + s2) / 2
                    out[3 * i + 1] += (s1 - s2) / 2
                    out[3 * i + 2] += (s1 + s2) / 2 + s3
                }
                func at(_ xi: Int) -> Float { z[xi * position] }
                // Gᵀ's rows: z0 + (z1 + z2)/2, (z1 − z2)/2, (z1 + z2)/2 + z3 over the transform rows z0…z3.
                add(0, at(0) + (at(4) + at(8)) / 2, at(1) + (at(5) + at(9)) / 2,
                    at(2) + (at(6) + at(10)) / 2, at(3) + (at(7) + at(11)) / 2)
                add(1, (at(4) - at(8)) / 2, (at(5) - at(9)) / 2, (at(6) - at(10)) / 2, (at(7) - at(11)) / 2)
                add(2, (at(4) + at(8)) / 2 + at(12), (at(5) + at(9)) / 2 + at(13),
                    (at(6) + at(10)) / 2 + at(14), (at(7) + at(11)) / 2 + at(15))
            }
        }
    }
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@inline(__always) private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// The first `count` lanes of v (all 8 when `count ≥ 8`).
@inline(__always) private func storePrefix(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count >= 8 { return store8(v, p) }
    for j in 0..<count { p[j] = v[j] }
}

@inline(__always) private func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}
