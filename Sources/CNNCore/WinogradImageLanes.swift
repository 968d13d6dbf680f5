/// The transforms with their eight lanes across images, for images whose tile rows hold fewer
/// than 8 tiles (8x8 and 16x16 outputs: 2 and 4), where the lanes of `transformInput` and its
/// kin, which run along a tile row, would mostly idle and each tile's 36 values would be stored
/// one by one. A block is then a multiple of 8 images, and column n of V, M and D is
/// `tile · images + image`: one vector holds the same tile of eight images.
///
/// A channel of eight images is first gathered into a grid of 8-lane vectors, image i in lane i,
/// its padding and the part-used last tiles' overhang zero; then each tile is transformed along
/// its columns into 36 vectors of scratch and along its rows into V (or D), vector for vector.
extension WinogradPlan {
    /// Whether a block takes groups of 8 images, lanes across them: rows of fewer than 8 tiles,
    /// and images small enough that 8 make a block of at most `2 · targetTiles` tiles.
    public var lanesAcrossImages: Bool { tilesW < 8 && 8 * tiles <= 2 * Self.targetTiles }

    /// How many of `images` run with lanes across them: whole groups of 8, or none.
    func laneImages(of images: Int) -> Int { lanesAcrossImages ? images / 8 * 8 : 0 }

    /// The grid of one channel of eight images: the tiles' input rows and columns, each point a
    /// vector of 8 floats (dY's 4·tilesH × 4·tilesW points fit in it too).
    var gridColumns: Int { Self.tile * tilesW + 2 }
    var gridFloats: Int { (Self.tile * tilesH + 2) * gridColumns * 8 }
    /// The grid, then one tile's 6 × 6 vectors between its column and row transforms.
    var laneScratchFloats: Int { gridFloats + Self.positions * 8 }

    /// Fills the grid's points `(row + top, column + left)` from `rows × columns` planes, image
    /// i's at `planes + i · imageStride`, rows `columns` floats apart. The rest stays as it is.
    private func gather(_ planes: UnsafePointer<Float>, imageStride s: Int, rows: Int, columns: Int, top: Int, left: Int,
                        into grid: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let source = planes + r * columns, out = grid + ((r + top) * gridColumns + left) * 8
            for col in 0..<columns {
                let q = source + col
                store8(SIMD8(q[0], q[s], q[2 * s], q[3 * s], q[4 * s], q[5 * s], q[6 * s], q[7 * s]), out + col * 8)
            }
        }
    }

    /// `V[ξ][c][tile · images + image] = (Bᵀ d B)[ξ]` for `images` (a multiple of 8) images `[C, H, W]`.
    func transformInputLanes(_ x: UnsafePointer<Float>, images: Int, into v: UnsafeMutablePointer<Float>,
                             scratch: UnsafeMutablePointer<Float>) {
        let n = images * tiles, position = Self.positionStride(channels, n), grid = scratch, t = scratch + gridFloats
        let columns = gridColumns, plane = height * width
        grid.update(repeating: 0, count: gridFloats)
        for i0 in stride(from: 0, to: images, by: 8) {
            for c in 0..<channels {
                gather(x + (i0 * channels + c) * plane, imageStride: channels * plane, rows: height, columns: width,
                       top: padTop, left: padLeft, into: grid)
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        let corner = grid + (Self.tile * (ty * columns + tx)) * 8
                        func point(_ k: Int, _ j: Int) -> SIMD8<Float> { load8(corner + (k * columns + j) * 8) }
                        for j in 0..<6 {
                            let b = inputRows(point(0, j), point(1, j), point(2, j), point(3, j), point(4, j), point(5, j))
                            b.store(t + j * 8, stride: 6 * 8)
                        }
                        let out = v + c * n + (ty * tilesW + tx) * images + i0
                        for k in 0..<6 {
                            let r = t + 6 * k * 8
                            let b = inputRows(load8(r), load8(r + 8), load8(r + 16), load8(r + 24), load8(r + 32), load8(r + 40))
                            b.store(out + 6 * k * position, stride: position)
                        }
                    }
                }
            }
        }
    }

    /// `D[ξ][f][tile · images + image] = (A dy Aᵀ)[ξ]` for the 4×4 tiles of `images` (a multiple
    /// of 8) output gradients `[F, OH, OW]`, zeros past the output. Its loops repeat
    /// `transformInputLanes`'s around other arithmetic, as the tile-row transforms do (see
    /// `transformOutputGradient`: a shared helper taking the arithmetic as a closure was slower).
    func transformOutputGradientLanes(_ dy: UnsafePointer<Float>, images: Int, into d: UnsafeMutablePointer<Float>,
                                      scratch: UnsafeMutablePointer<Float>) {
        let n = images * tiles, position = Self.positionStride(filters, n), grid = scratch, t = scratch + gridFloats
        let columns = gridColumns, plane = outHeight * outWidth
        grid.update(repeating: 0, count: gridFloats)
        for i0 in stride(from: 0, to: images, by: 8) {
            for f in 0..<filters {
                gather(dy + (i0 * filters + f) * plane, imageStride: filters * plane, rows: outHeight, columns: outWidth,
                       top: 0, left: 0, into: grid)
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        let corner = grid + (Self.tile * (ty * columns + tx)) * 8
                        func point(_ k: Int, _ j: Int) -> SIMD8<Float> { load8(corner + (k * columns + j) * 8) }
                        for j in 0..<4 {
                            let a = gradientRows(point(0, j), point(1, j), point(2, j), point(3, j))
                            a.store(t + j * 8, stride: 6 * 8)
                        }
                        let out = d + f * n + (ty * tilesW + tx) * images + i0
                        for k in 0..<6 {
                            let r = t + 6 * k * 8
                            let a = gradientRows(load8(r), load8(r + 8), load8(r + 16), load8(r + 24))
                            a.store(out + 6 * k * position, stride: position)
                        }
                    }
                }
            }
        }
    }

    /// `y[f] (+)= Aᵀ M A` for `images` (a multiple of 8) images from `M[ξ][f][tile · images +
    /// image]`; a part-used last tile's extra rows and columns are dropped. The outputs leave the
    /// lanes one by one: each image's tile rows are only 4 floats wide.
    func transformOutputLanes(_ m: UnsafePointer<Float>, images: Int, into y: UnsafeMutablePointer<Float>,
                              adding: Bool, scratch: UnsafeMutablePointer<Float>) {
        let n = images * tiles, p = Self.positionStride(filters, n), t = scratch + gridFloats
        let plane = outHeight * outWidth, s = filters * plane
        for i0 in stride(from: 0, to: images, by: 8) {
            for f in 0..<filters {
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        let m0 = m + f * n + (ty * tilesW + tx) * images + i0
                        for l in 0..<6 {
                            let r = outputRows(load8(m0 + l * p), load8(m0 + (6 + l) * p), load8(m0 + (12 + l) * p),
                                               load8(m0 + (18 + l) * p), load8(m0 + (24 + l) * p), load8(m0 + (30 + l) * p))
                            r.store(t + l * 8, stride: 6 * 8, count: 4)
                        }
                        for a in 0..<4 where Self.tile * ty + a < outHeight {
                            let r = t + 6 * a * 8
                            let o = outputRows(load8(r), load8(r + 8), load8(r + 16), load8(r + 24), load8(r + 32), load8(r + 40))
                            let row = y + (i0 * filters + f) * plane + (Self.tile * ty + a) * outWidth + Self.tile * tx
                            for b in 0..<min(4, outWidth - Self.tile * tx) {
                                let value = o[b], out = row + b
                                for i in 0..<8 { out[i * s] = adding ? out[i * s] + value[i] : value[i] }
                            }
                        }
                    }
                }
            }
        }
    }
}
