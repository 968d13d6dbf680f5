/// The four transforms of F(4×4, 3×3) (Lavin & Gray 2016, section 4.2; interpolation points
/// 0, ±1, ±2), each applied along the columns and then along the rows:
///
///     Bᵀ = | 4  0 −5  0  1  0 |     G = |  1/4     0     0  |     Aᵀ = | 1  1  1  1  1  0 |
///          | 0 −4 −4  1  1  0 |         | −1/6  −1/6  −1/6  |          | 0  1 −1  2 −2  0 |
///          | 0  4 −4 −1  1  0 |         | −1/6   1/6  −1/6  |          | 0  1  1  4  4  0 |
///          | 0 −2 −1  2  1  0 |         |  1/24  1/12  1/6  |          | 0  1 −1  8 −8  1 |
///          | 0  2 −1 −2  1  0 |         |  1/24 −1/12  1/6  |
///          | 0  4  0 −5  0  1 |         |  0     0     1    |
///
/// Along the rows, tile t's columns 4t…4t+5 are the four column phases (column mod 4) at t and
/// the first two at t + 1, so each row is split into its phases 32 floats at a time and every
/// loop below reads and writes contiguous runs of 8 tiles.
extension WinogradPlan {
    /// Floats of a scratch row: a padded input row, split 32 floats at a time even when only a
    /// few tiles of the last 8 remain.
    var rowFloats: Int { 4 * ((tilesW + 7) / 8 * 8) + 8 }

    /// `V[ξ][c][column + t] = (Bᵀ d B)[ξ]` for every tile t of tile rows `rows` of one image
    /// `[C, H, W]`, rows `stride` floats apart. Per channel, first Bᵀ along the columns for every
    /// tile row into scratch rows (rows outside the image read a zero row; the padding columns
    /// stay zero, no write touches them), then Bᵀ along the rows. Done a tile row at a time, the
    /// second step's loads would straddle the first's stores just issued, which the store buffer
    /// cannot forward.
    func transformInput(_ x: UnsafePointer<Float>, rows: Range<Int>, into v: UnsafeMutablePointer<Float>, column: Int,
                        stride n: Int, scratch: UnsafeMutablePointer<Float>) {
        let rowFloats = rowFloats, s = scratch - 6 * rows.lowerBound * rowFloats, zero = scratch + 6 * tilesH * rowFloats
        scratch.update(repeating: 0, count: 6 * rows.count * rowFloats)
        zero.update(repeating: 0, count: width)
        let position = Self.positionStride(channels, n)
        for c in 0..<channels {
            let plane = x + c * height * width
            for ty in rows {
                func source(_ k: Int) -> UnsafePointer<Float> {
                    let r = Self.tile * ty - padTop + k
                    return r >= 0 && r < height ? plane + r * width : UnsafePointer(zero)
                }
                let d0 = source(0), d1 = source(1), d2 = source(2), d3 = source(3), d4 = source(4), d5 = source(5)
                let s0 = s + 6 * ty * rowFloats + padLeft
                var i = 0
                while i + 8 <= width {
                    inputRows(load8(d0 + i), load8(d1 + i), load8(d2 + i), load8(d3 + i), load8(d4 + i),
                              load8(d5 + i)).store(s0 + i, stride: rowFloats)
                    i += 8
                }
                while i < width {
                    let b = inputRows(SIMD8(repeating: d0[i]), SIMD8(repeating: d1[i]), SIMD8(repeating: d2[i]),
                                      SIMD8(repeating: d3[i]), SIMD8(repeating: d4[i]), SIMD8(repeating: d5[i]))
                    for k in 0..<6 { s0[k * rowFloats + i] = b[k][0] }
                    i += 1
                }
            }
            for ty in rows {
                for k in 0..<6 {
                    let row = s + (6 * ty + k) * rowFloats
                    let v0 = v + 6 * k * position + c * n + column + (ty - rows.lowerBound) * tilesW
                    var t = 0
                    while t < tilesW {
                        // Tile t's columns 4t…4t+5: phases 0…3 at t, phases 0 and 1 at t + 1.
                        let here = load32(row + 4 * t), next = load32(row + 4 * t + 4)
                        let b = inputRows(here.evenHalf.evenHalf, here.oddHalf.evenHalf, here.evenHalf.oddHalf,
                                          here.oddHalf.oddHalf, next.evenHalf.evenHalf, next.oddHalf.evenHalf)
                        b.storePrefix(v0 + t, stride: position, lanes: tilesW - t)
                        t += 8
                    }
                }
            }
        }
    }

    /// `y[f] (+)= Aᵀ M A` for the tiles of tile rows `rows` of one image, `M[ξ][f][column + t]`
    /// with rows `stride` floats apart; a part-used last tile's extra rows and columns are dropped.
    func transformOutput(_ m: UnsafePointer<Float>, rows: Range<Int>, column: Int, stride n: Int,
                         into y: UnsafeMutablePointer<Float>, adding: Bool, scratch: UnsafeMutablePointer<Float>) {
        let p = Self.positionStride(filters, n), rowFloats = rowFloats
        for f in 0..<filters {
            for ty in rows {
                let m0 = m + f * n + column + (ty - rows.lowerBound) * tilesW
                let columns = scratch + 4 * rowFloats
                var t = 0
                while t < tilesW {
                    // Aᵀ along the columns into 4 × 6 vectors, then along the rows of each.
                    for l in 0..<6 {
                        let mk = m0 + l * p + t, r = outputRows(load8(mk), load8(mk + 6 * p), load8(mk + 12 * p),
                                                                 load8(mk + 18 * p), load8(mk + 24 * p), load8(mk + 30 * p))
                        r.store(columns + l * 8, stride: 6 * 8, count: 4)
                    }
                    for i in 0..<4 {
                        let c = columns + 6 * i * 8
                        let y = outputRows(load8(c), load8(c + 8), load8(c + 16), load8(c + 24), load8(c + 32), load8(c + 40))
                        store32(interleave(interleave(y[0], y[2]), interleave(y[1], y[3])), scratch + i * rowFloats + 4 * t)
                    }
                    t += 8
                }
                for i in 0..<4 where Self.tile * ty + i < outHeight {
                    Self.store(scratch + i * rowFloats, into: y + (f * outHeight + Self.tile * ty + i) * outWidth,
                               count: outWidth, adding: adding)
                }
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

    /// `D[ξ][f][column + t] = (A dy Aᵀ)[ξ]` for every 4×4 tile of tile rows `rows` of one
    /// image's output gradient `[F, OH, OW]` (past the output the tile reads zeros); per filter
    /// all tile rows along the columns first, as in `transformInput`. Its loop along the rows
    /// repeats `transformInput`'s with other arithmetic: one helper taking the arithmetic as a
    /// closure was not inlined, and was slower.
    func transformOutputGradient(_ dy: UnsafePointer<Float>, rows: Range<Int>, into d: UnsafeMutablePointer<Float>,
                                 column: Int, stride n: Int, scratch: UnsafeMutablePointer<Float>) {
        let rowFloats = rowFloats, s = scratch - 6 * rows.lowerBound * rowFloats, zero = scratch + 6 * tilesH * rowFloats
        scratch.update(repeating: 0, count: 6 * rows.count * rowFloats)
        zero.update(repeating: 0, count: outWidth)
        let position = Self.positionStride(filters, n)
        for f in 0..<filters {
            for ty in rows {
                func source(_ k: Int) -> UnsafePointer<Float> {
                    let r = Self.tile * ty + k
                    return r < outHeight ? dy + (f * outHeight + r) * outWidth : UnsafePointer(zero)
                }
                let r0 = source(0), r1 = source(1), r2 = source(2), r3 = source(3), s0 = s + 6 * ty * rowFloats
                var i = 0
                while i + 8 <= outWidth {
                    gradientRows(load8(r0 + i), load8(r1 + i), load8(r2 + i), load8(r3 + i)).store(s0 + i, stride: rowFloats)
                    i += 8
                }
                while i < outWidth {
                    let a = gradientRows(SIMD8(repeating: r0[i]), SIMD8(repeating: r1[i]), SIMD8(repeating: r2[i]),
                                         SIMD8(repeating: r3[i]))
                    for k in 0..<6 { s0[k * rowFloats + i] = a[k][0] }
                    i += 1
                }
            }
            for ty in rows {
                for k in 0..<6 {
                    let row = s + (6 * ty + k) * rowFloats
                    let d0 = d + 6 * k * position + f * n + column + (ty - rows.lowerBound) * tilesW
                    var t = 0
                    while t < tilesW {
                        let here = load32(row + 4 * t)
                        let a = gradientRows(here.evenHalf.evenHalf, here.oddHalf.evenHalf, here.evenHalf.oddHalf,
                                             here.oddHalf.oddHalf)
                        a.storePrefix(d0 + t, stride: position, lanes: tilesW - t)
                        t += 8
                    }
                }
            }
        }
    }

    /// `U[ξ][f][c] = (G g Gᵀ)[ξ]` from weights `[F, C, 3, 3]`; `flipped`: from the forward
    /// layer's weights `[C, F, 3, 3]` (this plan being its `inputGradientPlan`), each kernel
    /// rotated by 180°. The worker pool's parts take a share of the filters each.
    public func transformWeights(_ w: UnsafePointer<Float>, flipped: Bool, into u: UnsafeMutablePointer<Float>,
                                 pool: WorkerPool) {
        pool.forEachRange(filters, itemSize: Self.positions * channels,
                          WeightTransform(plan: self, w: w, flipped: flipped, u: u))
    }

    struct WeightTransform: RangeWork {
        let plan: WinogradPlan, w: UnsafePointer<Float>, flipped: Bool, u: UnsafeMutablePointer<Float>
        func run(_ range: Range<Int>) { plan.transformWeights(w, flipped: flipped, filters: range, into: u) }
    }

    func transformWeights(_ w: UnsafePointer<Float>, flipped: Bool, filters range: Range<Int>,
                          into u: UnsafeMutablePointer<Float>) {
        // Blocks of 16 channels: a flipped kernel (c, f) is read from row c of the layer's
        // weights, so without blocks every read would land in another row and another page.
        let position = Self.positionStride(filters, channels)
        for c0 in stride(from: 0, to: channels, by: 16) {
        for f in range {
            for c in c0..<min(channels, c0 + 16) {
                let g = flipped ? w + (c * filters + f) * 9 : w + (f * channels + c) * 9
                // The kernel's columns (rotated by 180° when flipped) as lanes 0…2: G along the
                // columns gives the six rows of G g as vectors; G along each row, element by element.
                func kernelRow(_ r: Int) -> SIMD8<Float> {
                    flipped ? SIMD8(g[8 - 3 * r], g[7 - 3 * r], g[6 - 3 * r], 0, 0, 0, 0, 0)
                        : SIMD8(g[3 * r], g[3 * r + 1], g[3 * r + 2], 0, 0, 0, 0, 0)
                }
                let t = weightRows(kernelRow(0), kernelRow(1), kernelRow(2))
                let out = u + f * channels + c
                for k in 0..<6 {
                    let (g0, g1, g2) = (t[k][0], t[k][1], t[k][2]), o = out + 6 * k * position
                    let even = (g0 + g2) * sixth, odd = g1 * sixth, a = g0 * twentyFourth + g2 * sixth
                    o[0] = g0 * 0.25
                    o[position] = -even - odd
                    o[2 * position] = odd - even
                    o[3 * position] = a + g1 * twelfth
                    o[4 * position] = a - g1 * twelfth
                    o[5 * position] = g2
                }
            }
        }
        }
    }

    /// `dW[f][c] += Gᵀ Ŵ[·][f][c] G` for weights `[F, C, 3, 3]`.
    public func addWeightGradient(_ transformed: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let position = Self.positionStride(filters, channels)
        for f in 0..<filters {
            for c in 0..<channels {
                let z = transformed + f * channels + c, out = dw + (f * channels + c) * 9
                // Gᵀ along the columns: the six rows of Ŵ as vectors of their six columns.
                func row(_ k: Int) -> SIMD8<Float> {
                    var r = SIMD8<Float>()
                    for l in 0..<6 { r[l] = z[(6 * k + l) * position] }
                    return r
                }
                let s = weightGradientRows(row(0), row(1), row(2), row(3), row(4), row(5))
                for i in 0..<3 {
                    let e = weightGradientRows(SIMD8(repeating: s[i][0]), SIMD8(repeating: s[i][1]),
                                               SIMD8(repeating: s[i][2]), SIMD8(repeating: s[i][3]),
                                               SIMD8(repeating: s[i][4]), SIMD8(repeating: s[i][5]))
                    for j in 0..<3 { out[3 * i + j] += e[j][0] }
                }
            }
        }
    }
}

/// Bᵀ applied to six rows: `(Bᵀ d)[k]`.
@inline(__always) func inputRows(_ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>,
                                         _ d4: SIMD8<Float>, _ d5: SIMD8<Float>) -> Six {
    let a = d4 - 4 * d2, b = 4 * d1 - d3, c = d4 - d2, e = 2 * (d1 - d3)
    return Six(4 * d0 - 5 * d2 + d4, a - b, a + b, c - e, c + e, 4 * d1 - 5 * d3 + d5)
}

/// Aᵀ applied to six rows: the four output rows.
@inline(__always) func outputRows(_ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>,
                                          _ m4: SIMD8<Float>, _ m5: SIMD8<Float>) -> Six {
    let p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4
    return Six(m0 + p + r, q + 2 * s, p + 4 * r, q + 8 * s + m5, SIMD8(), SIMD8())
}

/// A applied to four rows of dY: `(A dy)[k]`.
@inline(__always) func gradientRows(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>,
                                            _ r3: SIMD8<Float>) -> Six {
    let e = r0 + r2, o = r1 + r3, e4 = r0 + 4 * r2, o4 = 2 * r1 + 8 * r3
    return Six(r0, e + o, e - o, e4 + o4, e4 - o4, r3)
}

/// G applied to the three kernel rows.
@inline(__always) private func weightRows(_ g0: SIMD8<Float>, _ g1: SIMD8<Float>, _ g2: SIMD8<Float>) -> Six {
    let even = (g0 + g2) * sixth, odd = g1 * sixth, a = g0 * twentyFourth + g2 * sixth
    return Six(g0 * 0.25, -even - odd, odd - even, a + g1 * twelfth, a - g1 * twelfth, g2)
}

// G's fractions as products: x / 6 is a division, which takes several times as long.
private let sixth: Float = 1 / 6, twelfth: Float = 1 / 12, twentyFourth: Float = 1 / 24

/// Gᵀ applied to six rows: the three kernel rows.
@inline(__always) private func weightGradientRows(_ z0: SIMD8<Float>, _ z1: SIMD8<Float>, _ z2: SIMD8<Float>,
                                                  _ z3: SIMD8<Float>, _ z4: SIMD8<Float>, _ z5: SIMD8<Float>) -> Six {
    let p = (z1 + z2) * sixth, q = (z2 - z1) * sixth, r = z3 + z4, s = z3 - z4
    return Six(z0 * 0.25 - p + r * twentyFourth, q + s * twelfth, r * sixth - p + z5, SIMD8(), SIMD8(), SIMD8())
}

/// Six rows of eight lanes.
struct Six {
    var rows: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    @inline(__always) init(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>,
                           _ e: SIMD8<Float>, _ f: SIMD8<Float>) { rows = (a, b, c, d, e, f) }
    @inline(__always) subscript(_ k: Int) -> SIMD8<Float> {
        switch k {
        case 0: rows.0
        case 1: rows.1
        case 2: rows.2
        case 3: rows.3
        case 4: rows.4
        default: rows.5
        }
    }

    /// The first `count` rows (4 or 6), `stride` floats apart, written out one by one: a loop over
    /// `self[k]` compiled to a jump table per row (a tenth of the input transform's time).
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, stride: Int, count: Int = 6) {
        store8(rows.0, p); store8(rows.1, p + stride); store8(rows.2, p + 2 * stride); store8(rows.3, p + 3 * stride)
        if count > 4 { store8(rows.4, p + 4 * stride); store8(rows.5, p + 5 * stride) }
    }

    /// The first `lanes` lanes of all six rows (all 8 when `lanes ≥ 8`), `stride` floats apart.
    @inline(__always) func storePrefix(_ p: UnsafeMutablePointer<Float>, stride: Int, lanes: Int) {
        if lanes >= 8 { return store(p, stride: stride) }
        for k in 0..<6 {
            let row = self[k], out = p + k * stride
            for j in 0..<lanes { out[j] = row[j] }
        }
    }
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func load32(_ p: UnsafePointer<Float>) -> SIMD32<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@inline(__always) private func store32(_ v: SIMD32<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD32<Float>.self)
}


@inline(__always) private func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

@inline(__always) private func interleave(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD32<Float> {
    SIMD32(lowHalf: interleave(a.lowHalf, b.lowHalf), highHalf: interleave(a.highHalf, b.highHalf))
}
