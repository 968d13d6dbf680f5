/// The input gradient of a stride-2 `DirectConvPlan`, one phase of the padded input at a time.
///
/// Phase `(a, b)` of the padded input, `P_ab[y][x] = xp[2y + a][2x + b]`, met the kernel's taps
/// `(i, j) = (2u + a, 2v + b)` at output `(y − u, x − v)`, so its gradient is a stride-1 "full"
/// correlation of dY with that sub-kernel flipped:
/// `dP_ab[c][y][x] = Σ_f Σ_uv w[f, c, 2u + a, 2v + b] · dy[f][y − u][x − v]`.
/// dY is padded once, by `⌈kh/2⌉ − 1` rows on top and `⌈kw/2⌉ − 1` columns on the left (the
/// tallest and widest sub-kernel's reach) and up to the phase size below and to the right; each
/// phase is then a `DirectConvKernel` over it with its own taps (4, 2, 2 and 1 per filter for a
/// 3x3 kernel: the 9 taps, none wasted), and its stage is added into dX at the phase's columns.
public struct PhaseInputGradient: Sendable, Equatable {
    /// The padded dY's layout (a stride-1 plan over `[F, OH, OW]`; only its padding is used).
    public let padding: DirectConvPlan
    /// Phases `(a, b)` in order `2a + b`; a phase no tap reaches (`a ≥ kh`, e.g. a 1-high kernel) has
    /// none and computes zeros.
    public let phases: [DirectConvKernel]
    /// Per phase row `a`: the first phase row `y` inside the image (`2y + a ≥ pt`) and how many
    /// are; the phases compute only these rows (a stage row `y − firstRow`).
    let firstRow: [Int], rowCount: [Int]
    /// Floats of the largest phase stage.
    let stageFloats: Int
    /// The forward convolution's input geometry, where the phases land, and its kernel.
    let channels: Int, height: Int, width: Int, padTop: Int, padLeft: Int, kernelH: Int, kernelW: Int

    public init(_ plan: DirectConvPlan) {
        precondition(plan.stride == 2)
        let (kh, kw, f) = (plan.kernelH, plan.kernelW, plan.filters)
        let (tall, wide) = ((kh + 1) / 2, (kw + 1) / 2)
        let padding = DirectConvPlan(channels: f, height: plan.outHeight, width: plan.outWidth, filters: plan.channels,
                                     kernelH: tall, kernelW: wide, padTop: tall - 1, padBottom: plan.rows - plan.outHeight,
                                     padLeft: wide - 1, padRight: plan.pitch - plan.outWidth)
        let pitch = padding.pitch
        var phases: [DirectConvKernel] = [], firstRow: [Int] = [], rowCount: [Int] = []
        for a in 0..<2 {
            let y0 = (max(0, plan.padTop - a) + 1) / 2, iy0 = 2 * y0 + a - plan.padTop
            let rows = iy0 < plan.height ? (plan.height - iy0 + 1) / 2 : 0
            firstRow.append(y0)
            rowCount.append(rows)
            for b in 0..<2 {
                var taps: [Int] = []
                for filter in 0..<f {
                    for u in 0..<(kh - a + 1) / 2 {
                        for v in 0..<(kw - b + 1) / 2 {
                            taps.append(filter * padding.planeStride + (y0 + tall - 1 - u) * pitch + (wide - 1 - v))
                        }
                    }
                }
                let vectors = (rows * pitch + DirectConvKernel.lanes - 1) / DirectConvKernel.lanes
                phases.append(DirectConvKernel(taps: taps, filters: plan.channels, vectors: vectors))
            }
        }
        (self.padding, self.phases, self.firstRow, self.rowCount) = (padding, phases, firstRow, rowCount)
        stageFloats = phases.map(\.stageFloats).max()!
        (channels, height, width, padTop, padLeft) = (plan.channels, plan.height, plan.width, plan.padTop, plan.padLeft)
        (kernelH, kernelW) = (kh, kw)
    }

    /// Floats of the four phases' packed weights, one after the other.
    public var packedWeightFloats: Int { phases.reduce(0) { $0 + $1.packedWeightFloats } }
    /// Floats of one image's padded dY and the stages of two phases `(a, 0)` and `(a, 1)`.
    public var workspaceFloats: Int { padding.paddedFloats(images: 1) + 2 * stageFloats }

    /// `w: [F, C, kh, kw]` → each phase's packed sub-kernel: its filter `c` (an input channel),
    /// tap `(f, u, v)` reads `w[f, c, 2u + a, 2v + b]`.
    public func pack(weights w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let (kh, kw, block) = (kernelH, kernelW, DirectConvKernel.filterBlock), filters = padding.channels
        var out = packed
        for (phase, kernel) in phases.enumerated() where !kernel.taps.isEmpty {
            let (a, b) = phase.quotientAndRemainder(dividingBy: 2)
            for cb in 0..<kernel.filterBlocks {
                for f in 0..<filters {
                    for i in Swift.stride(from: a, to: kh, by: 2) {
                        for j in Swift.stride(from: b, to: kw, by: 2) {
                            for lane in 0..<block {
                                let c = cb * block + lane
                                out[lane] = c < channels ? w[((f * channels + c) * kh + i) * kw + j] : 0
                            }
                            out += block
                        }
                    }
                }
            }
        }
    }

    /// One image: `dx: [C, H, W] += ` the gradient of its padded input's phases from `dy: [F, OH, OW]`,
    /// in `workspace` (`workspaceFloats`): per phase row `a`, the stages of phases `(a, 0)` and
    /// `(a, 1)`, interleaved into the rows of dX they hold.
    public func addGradient(dy: UnsafePointer<Float>, packed: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                            workspace: UnsafeMutablePointer<Float>) {
        let dyp = workspace, first = workspace + padding.paddedFloats(images: 1)
        let stages = (first, first + stageFloats)
        padding.pad(dy, images: 1, into: dyp)
        var weights = packed
        for a in 0..<2 {
            let (left, right) = (phases[2 * a], phases[2 * a + 1])
            left.forward(input: dyp, packed: weights, stage: stages.0)
            right.forward(input: dyp, packed: weights + left.packedWeightFloats, stage: stages.1)
            weights += left.packedWeightFloats + right.packedWeightFloats
            addRows(a: a, stages: stages, stageRow: left.stageRow, into: dx)
        }
    }

    /// Adds the stages of phases `(a, 0)` and `(a, 1)` into the rows `iy = 2y + a − pt` of dX:
    /// column `ix` is phase `(ix + pl) mod 2`'s `x = ⌊(ix + pl)/2⌋`, so 2·16 neighbouring columns are
    /// one interleave of a vector from each stage (2·8 for narrow rows).
    private func addRows(a: Int, stages: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>), stageRow: Int,
                         into dx: UnsafeMutablePointer<Float>) {
        let (pitch, w) = (padding.pitch, width), iy0 = 2 * firstRow[a] + a - padTop
        let (even, odd) = padLeft % 2 == 0 ? stages : (stages.1, stages.0)
        let (evenStart, oddStart) = (padLeft / 2, (padLeft + 1) / 2)
        for y in 0..<rowCount[a] {
            for c in 0..<channels {
                let e = even + c * stageRow + y * pitch + evenStart, o = odd + c * stageRow + y * pitch + oddStart
                let dst = dx + (c * height + iy0 + 2 * y) * w
                var k = 0
                while 2 &* k &+ 32 <= w {
                    let v = interleave(load(e + k), load(o + k)), d = dst + 2 &* k
                    store(load(d) + v.lowHalf, d)
                    store(load(d + 16) + v.highHalf, d + 16)
                    k &+= 16
                }
                if 2 &* k &+ 16 <= w {
                    let d = dst + 2 &* k
                    store(load(d) + interleave(load8(e + k), load8(o + k)), d)
                    k &+= 8
                }
                for ix in 2 * k..<w { dst[ix] += ix % 2 == 0 ? e[ix / 2] : o[ix / 2] }
            }
        }
    }
}

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

/// `[a0, b0, a1, b1, …, a7, b7]`.
@inline(__always)
private func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Vector {
    Vector(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// `[a0, b0, a1, b1, …, a15, b15]` (two permutes on AVX-512; the halves are added separately,
/// because arithmetic on `SIMD32` compiles to a scalar loop).
@inline(__always)
private func interleave(_ a: Vector, _ b: Vector) -> SIMD32<Float> {
    SIMD32(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7],
           a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
}
