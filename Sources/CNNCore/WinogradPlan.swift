/// A 3x3, stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2016,
/// "Fast Algorithms for Convolutional Neural Networks", eq. 8 and section 4.2): each 4×4 tile of
/// outputs is `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`, d the 6×6 input tile under it, so 36
/// multiplications do the work of 144. Summed over channels, the element-wise products of each of
/// the 36 transform positions ξ become one matrix product over a chunk of N tiles:
///
///     forward          M[ξ] (F×N)  = U[ξ] (F×C) · V[ξ] (C×N),   U = G g Gᵀ,  V = Bᵀ d B
///     weight gradient  Ŵ[ξ] (F×C) += D[ξ] (F×N) · V[ξ]ᵀ,        D = A dy Aᵀ,  dW = Gᵀ Ŵ G
///
/// (the weight gradient is the transposed algorithm F(3×3, 4×4): `∂L/∂U = (A dy Aᵀ) ⊙ V`).
/// The input gradient is the forward of `inputGradientPlan`: dY padded by `2 − P`, correlated
/// with the flipped kernels, channels and filters swapped.
///
/// Layouts: images `[C, H, W]`; `U[ξ][f][c]`; `V[ξ][c][n]` with `n = image·tiles + ty·tilesW + tx`
/// (or `n = tile·images + image` for small images, see `lanesAcrossImages`); ξ = 6k + l, k the
/// row and l the column of the 6×6 transform.
public struct WinogradPlan: Sendable, Equatable {
    public let channels: Int, filters: Int, height: Int, width: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let outHeight: Int, outWidth: Int
    /// 4×4 output tiles per column and row; a side that is no multiple of 4 gets a part-used last tile.
    public let tilesH: Int, tilesW: Int
    public static let positions = 36, tile = 4

    /// The variable that turns Winograd convolutions off (`off`), for comparisons.
    public static let variable = "CNNCTL_WINOGRAD"
    public static let enabled = BLASCore.environment(variable)?.lowercased() != "off"

    /// Padding of at most 2 per side, so the input gradient's padding `2 − P` is never negative.
    public init(channels: Int, height: Int, width: Int, filters: Int,
                padTop: Int, padBottom: Int, padLeft: Int, padRight: Int) {
        precondition(padTop >= 0 && padTop <= 2 && padBottom >= 0 && padBottom <= 2 && padLeft >= 0 && padLeft <= 2
                     && padRight >= 0 && padRight <= 2)
        self.channels = channels; self.height = height; self.width = width; self.filters = filters
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        outHeight = height + padTop + padBottom - 2
        outWidth = width + padLeft + padRight - 2
        tilesH = (outHeight + Self.tile - 1) / Self.tile
        tilesW = (outWidth + Self.tile - 1) / Self.tile
    }

    public var tiles: Int { tilesH * tilesW }
    var inputSize: Int { channels * height * width }
    var outputSize: Int { filters * outHeight * outWidth }
    /// Floats of the transformed weights `U`.
    public var weightFloats: Int { Self.positions * Self.positionStride(filters, channels) }

    /// Floats from one transform position's `rows × columns` matrix to the next: one cache line
    /// more than the matrix. The transforms write the 36 positions of a tile together, and with
    /// matrices of a multiple of 4 KiB all 36 stores fall into one cache set, which holds 12
    /// lines: 4 KiB-aligned strides made the kernels' transform the bulk of a VGG-style step.
    static func positionStride(_ rows: Int, _ columns: Int) -> Int { rows * columns + 16 }

    /// dX from dY: a full correlation of dY (padded by `2 − P`) with the flipped kernels.
    public var inputGradientPlan: WinogradPlan {
        WinogradPlan(channels: filters, height: outHeight, width: outWidth, filters: channels,
                     padTop: 2 - padTop, padBottom: 2 - padBottom, padLeft: 2 - padLeft, padRight: 2 - padRight)
    }

    /// The blocks the products run on: about `targetTiles` tiles each (an 8x8 output has 4
    /// tiles, too few for sgemm; a 32x32 one 64), so either several whole images or a run of one
    /// image's tile rows. Larger blocks spill the transformed input and products out of the cache,
    /// smaller ones make thin products (the sizes tried are in docs/PERFORMANCE.md).
    public static let targetTiles = 64
    /// Images per block: with lanes across images a multiple of 8 where the batch allows.
    public func chunk(batch: Int) -> Int {
        guard lanesAcrossImages, batch >= 8 else { return max(1, min(batch, Self.targetTiles / tiles)) }
        return min(batch / 8, max(1, Self.targetTiles / tiles / 8)) * 8
    }
    public var rowsPerBlock: Int { max(1, min(tilesH, Self.targetTiles / tilesW)) }
    var blockTiles: Int { tiles >= Self.targetTiles ? rowsPerBlock * tilesW : tiles }

    /// The transforms' scratch: six rows per tile row and a zero row (input and dY), or four
    /// output rows and 4 × 6 vectors of 8 (output); with lanes across images, their grid.
    var scratchFloats: Int {
        max(6 * tilesH * rowFloats + max(width, outWidth), 4 * rowFloats + 6 * 4 * 8,
            lanesAcrossImages ? laneScratchFloats : 0)
    }
    /// Floats `forward` needs for a chunk of `images`, and `weightGradient` too (its transformed
    /// dY takes the place of the products).
    public func forwardFloats(images: Int) -> Int {
        let n = images * blockTiles
        return Self.positions * (Self.positionStride(channels, n) + Self.positionStride(filters, n)) + scratchFloats
    }

    /// Runs `body` on each block of tile rows with its rows, its tiles per image and its tiles
    /// over all `images` (the products' width).
    private func forEachBlock(images: Int, _ body: (Range<Int>, Int, Int) -> Void) {
        for r0 in stride(from: 0, to: tilesH, by: rowsPerBlock) {
            let rows = r0..<min(tilesH, r0 + rowsPerBlock), block = rows.count * tilesW
            body(rows, block, images * block)
        }
    }

    /// `y = conv(x)` for `images` consecutive images (`adding`: `y += conv(x)`), from the
    /// transformed weights `u`: with lanes across images as many groups of 8 as there are, the
    /// rest a block of tile rows at a time.
    public func forward(_ x: UnsafePointer<Float>, images: Int, weights u: UnsafePointer<Float>,
                        into y: UnsafeMutablePointer<Float>, adding: Bool, workspace: UnsafeMutablePointer<Float>) {
        let lanes = laneImages(of: images)
        if lanes > 0 {
            let n = lanes * tiles, (v, m, scratch) = forwardBuffers(workspace, n)
            transformInputLanes(x, images: lanes, into: v, scratch: scratch)
            products(u, v, m, n)
            transformOutputLanes(m, images: lanes, into: y, adding: adding, scratch: scratch)
        }
        guard images > lanes else { return }
        let (x, y) = (x + lanes * inputSize, y + lanes * outputSize)
        forEachBlock(images: images - lanes) { rows, block, n in
            let (v, m, scratch) = forwardBuffers(workspace, n)
            for i in 0..<images - lanes {
                transformInput(x + i * inputSize, rows: rows, into: v, column: i * block, stride: n, scratch: scratch)
            }
            products(u, v, m, n)
            for i in 0..<images - lanes {
                transformOutput(m, rows: rows, column: i * block, stride: n, into: y + i * outputSize, adding: adding,
                                scratch: scratch)
            }
        }
    }

    /// V, M (or D) and the transforms' scratch for a block of `n` tiles.
    private func forwardBuffers(_ workspace: UnsafeMutablePointer<Float>, _ n: Int)
        -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let v = workspace, m = v + Self.positions * Self.positionStride(channels, n)
        return (v, m, m + Self.positions * Self.positionStride(filters, n))
    }

    /// `M[ξ] = U[ξ] · V[ξ]` for the 36 positions of a block of `n` tiles.
    private func products(_ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ n: Int) {
        let us = Self.positionStride(filters, channels), vs = Self.positionStride(channels, n)
        let ms = Self.positionStride(filters, n)
        for p in 0..<Self.positions {
            gemm(m: filters, n: n, k: channels, a: u + p * us, b: v + p * vs, c: m + p * ms)
        }
    }

    /// `Ŵ += Σ D[ξ]·V[ξ]ᵀ` over `images` consecutive images, blocked as `forward` blocks them;
    /// `addWeightGradient` turns Ŵ (`weightFloats`) into dW.
    public func weightGradient(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, images: Int,
                               into transformed: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let lanes = laneImages(of: images)
        if lanes > 0 {
            let n = lanes * tiles, (v, d, scratch) = forwardBuffers(workspace, n)
            transformInputLanes(x, images: lanes, into: v, scratch: scratch)
            transformOutputGradientLanes(dy, images: lanes, into: d, scratch: scratch)
            addProducts(d, v, n, into: transformed)
        }
        guard images > lanes else { return }
        let (x, dy) = (x + lanes * inputSize, dy + lanes * outputSize)
        forEachBlock(images: images - lanes) { rows, block, n in
            let (v, d, scratch) = forwardBuffers(workspace, n)
            for i in 0..<images - lanes {
                transformInput(x + i * inputSize, rows: rows, into: v, column: i * block, stride: n, scratch: scratch)
                transformOutputGradient(dy + i * outputSize, rows: rows, into: d, column: i * block, stride: n,
                                        scratch: scratch)
            }
            addProducts(d, v, n, into: transformed)
        }
    }

    /// `Ŵ[ξ] += D[ξ] · V[ξ]ᵀ` for the 36 positions of a block of `n` tiles.
    private func addProducts(_ d: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ n: Int,
                             into transformed: UnsafeMutablePointer<Float>) {
        let vs = Self.positionStride(channels, n), ds = Self.positionStride(filters, n)
        let ws = Self.positionStride(filters, channels)
        for p in 0..<Self.positions {
            gemm(transB: true, m: filters, n: channels, k: n, a: d + p * ds, b: v + p * vs, beta: 1,
                 c: transformed + p * ws)
        }
    }
}
