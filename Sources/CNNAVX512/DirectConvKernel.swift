typealias Vector = SIMD16<Float>

/// Sixteen floats from `p` advanced by `floats` floats (wrapping arithmetic: no overflow checks
/// in the inner loops).
@inline(__always)
func load(_ p: UnsafeRawPointer, _ floats: Int = 0) -> Vector {
    p.loadUnaligned(fromByteOffset: floats &* 4, as: Vector.self)
}

@inline(__always)
func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
}

/// The register-blocked loop every direct convolution here runs, on planes whose output rows
/// are contiguous runs of flat positions `q` (the padded planes of `DirectConvPlan`, or their
/// phases): `stage[f][q] = Σ_t w[f, t] · in[q + taps[t]]` for `q` over `vectors` sixteen-float
/// vectors. A convolution is its list of tap offsets: stride 1 reads tap `(c, i, j)` at
/// `c·planeStride + i·Wp + j`, stride 2 at its phase plane's offset; the input gradient of a
/// stride-2 convolution is four such lists, one per phase of dX.
public struct DirectConvKernel: Sendable, Equatable {
    /// Offset in floats from output position `q` to each tap's input, in the packed weights' order.
    public let taps: [Int]
    public let filters: Int
    /// Sixteen-float vectors of flat outputs computed.
    public let vectors: Int
    /// Floats of one filter's row in the stage: `vectors` rounded up to the 3-vector block.
    public let stageRow: Int

    /// Filters and vectors per register block: 8 × 3 accumulators of 16 lanes (24 of the 32 zmm
    /// registers), so each broadcast weight feeds 3 FMAs and each loaded input vector 8.
    public static let filterBlock = 8, vectorBlock = 3, lanes = 16

    public init(taps: [Int], filters: Int, vectors: Int) {
        self.taps = taps; self.filters = filters; self.vectors = vectors
        stageRow = (vectors + Self.vectorBlock - 1) / Self.vectorBlock * Self.vectorBlock * Self.lanes
    }

    public var filterBlocks: Int { (filters + Self.filterBlock - 1) / Self.filterBlock }
    /// Floats of the packed weights, `[filterBlocks][taps][8]`: the eight filters of a block side
    /// by side per tap, zero for filters past `filters`.
    public var packedWeightFloats: Int { filterBlocks * Self.filterBlock * taps.count }
    /// Floats of the stage, `[8·filterBlocks][stageRow]`.
    public var stageFloats: Int { filterBlocks * Self.filterBlock * stageRow }

    /// One image's `stage[f][q] = Σ_t w[f, t] · input[q + taps[t]]` for every filter row of the
    /// packed blocks (`w` from `pack`).
    ///
    /// Register block: 8 filters × 3 vectors (48 neighbouring outputs). Per tap, 3 unaligned loads
    /// of the input and 8 weight broadcasts feed 24 FMAs; the accumulators stay in registers over
    /// all taps and are stored once. One or two vectors left over take a 2-vector block (an 8x8
    /// plane with a 3x3 kernel is 5 vectors: 3 + 2, where whole 3-blocks would compute 6).
    public func forward(input xp: UnsafePointer<Float>, packed w: UnsafePointer<Float>,
                        stage: UnsafeMutablePointer<Float>) {
        let block = Self.filterBlock, span = Self.vectorBlock * Self.lanes, count = taps.count
        let whole = vectors / Self.vectorBlock * span
        taps.withUnsafeBufferPointer { offsets in
            let offsets = offsets.baseAddress!
            for fb in 0..<filterBlocks {
                let weights = w + fb * count * block, out = stage + fb * block * stageRow
                if whole < vectors * Self.lanes {
                    forwardPair(input: xp, offsets: offsets, weights: weights, q: whole, out: out)
                }
                for q in Swift.stride(from: 0, to: whole, by: span) {
                    var a00 = Vector(), a01 = Vector(), a02 = Vector(), a10 = Vector(), a11 = Vector(), a12 = Vector()
                    var a20 = Vector(), a21 = Vector(), a22 = Vector(), a30 = Vector(), a31 = Vector(), a32 = Vector()
                    var a40 = Vector(), a41 = Vector(), a42 = Vector(), a50 = Vector(), a51 = Vector(), a52 = Vector()
                    var a60 = Vector(), a61 = Vector(), a62 = Vector(), a70 = Vector(), a71 = Vector(), a72 = Vector()
                    var wk = weights
                    let origin = xp + q
                    for t in 0..<count {
                        let p = UnsafeRawPointer(origin + offsets[t])
                        let x0 = load(p), x1 = load(p, 16), x2 = load(p, 32)
                        var b = Vector(repeating: wk[0])
                        a00.addProduct(b, x0); a01.addProduct(b, x1); a02.addProduct(b, x2)
                        b = Vector(repeating: wk[1])
                        a10.addProduct(b, x0); a11.addProduct(b, x1); a12.addProduct(b, x2)
                        b = Vector(repeating: wk[2])
                        a20.addProduct(b, x0); a21.addProduct(b, x1); a22.addProduct(b, x2)
                        b = Vector(repeating: wk[3])
                        a30.addProduct(b, x0); a31.addProduct(b, x1); a32.addProduct(b, x2)
                        b = Vector(repeating: wk[4])
                        a40.addProduct(b, x0); a41.addProduct(b, x1); a42.addProduct(b, x2)
                        b = Vector(repeating: wk[5])
                        a50.addProduct(b, x0); a51.addProduct(b, x1); a52.addProduct(b, x2)
                        b = Vector(repeating: wk[6])
                        a60.addProduct(b, x0); a61.addProduct(b, x1); a62.addProduct(b, x2)
                        b = Vector(repeating: wk[7])
                        a70.addProduct(b, x0); a71.addProduct(b, x1); a72.addProduct(b, x2)
                        wk += block
                    }
                    let o = out + q, r = stageRow
                    store(a00, o); store(a01, o + 16); store(a02, o + 32)
                    store(a10, o + r); store(a11, o + r + 16); store(a12, o + r + 32)
                    store(a20, o + 2 * r); store(a21, o + 2 * r + 16); store(a22, o + 2 * r + 32)
                    store(a30, o + 3 * r); store(a31, o + 3 * r + 16); store(a32, o + 3 * r + 32)
                    store(a40, o + 4 * r); store(a41, o + 4 * r + 16); store(a42, o + 4 * r + 32)
                    store(a50, o + 5 * r); store(a51, o + 5 * r + 16); store(a52, o + 5 * r + 32)
                    store(a60, o + 6 * r); store(a61, o + 6 * r + 16); store(a62, o + 6 * r + 32)
                    store(a70, o + 7 * r); store(a71, o + 7 * r + 16); store(a72, o + 7 * r + 32)
                }
            }
        }
    }

    /// The 2-vector block at `q` for one packed filter block: 16 accumulators, per tap 2 loads and
    /// 8 broadcasts.
    private func forwardPair(input xp: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                             weights: UnsafePointer<Float>, q: Int, out: UnsafeMutablePointer<Float>) {
        var a00 = Vector(), a01 = Vector(), a10 = Vector(), a11 = Vector(), a20 = Vector(), a21 = Vector()
        var a30 = Vector(), a31 = Vector(), a40 = Vector(), a41 = Vector(), a50 = Vector(), a51 = Vector()
        var a60 = Vector(), a61 = Vector(), a70 = Vector(), a71 = Vector()
        var wk = weights
        let origin = xp + q
        for t in 0..<taps.count {
            let p = UnsafeRawPointer(origin + offsets[t])
            let x0 = load(p), x1 = load(p, 16)
            var b = Vector(repeating: wk[0]); a00.addProduct(b, x0); a01.addProduct(b, x1)
            b = Vector(repeating: wk[1]); a10.addProduct(b, x0); a11.addProduct(b, x1)
            b = Vector(repeating: wk[2]); a20.addProduct(b, x0); a21.addProduct(b, x1)
            b = Vector(repeating: wk[3]); a30.addProduct(b, x0); a31.addProduct(b, x1)
            b = Vector(repeating: wk[4]); a40.addProduct(b, x0); a41.addProduct(b, x1)
            b = Vector(repeating: wk[5]); a50.addProduct(b, x0); a51.addProduct(b, x1)
            b = Vector(repeating: wk[6]); a60.addProduct(b, x0); a61.addProduct(b, x1)
            b = Vector(repeating: wk[7]); a70.addProduct(b, x0); a71.addProduct(b, x1)
            wk += Self.filterBlock
        }
        let o = out + q, r = stageRow
        store(a00, o); store(a01, o + 16); store(a10, o + r); store(a11, o + r + 16)
        store(a20, o + 2 * r); store(a21, o + 2 * r + 16); store(a30, o + 3 * r); store(a31, o + 3 * r + 16)
        store(a40, o + 4 * r); store(a41, o + 4 * r + 16); store(a50, o + 5 * r); store(a51, o + 5 * r + 16)
        store(a60, o + 6 * r); store(a61, o + 6 * r + 16); store(a70, o + 7 * r); store(a71, o + 7 * r + 16)
    }
}
