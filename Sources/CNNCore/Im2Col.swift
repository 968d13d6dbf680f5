/// The geometry of a 2-D sliding window over one `[C, H, W]` image: kernel, stride, per-side
/// padding, dilation, padding mode. The output size per axis is
/// `floor((W − F_eff + P_before + P_after) / S) + 1` with `F_eff = D·(F − 1) + 1`.
public struct WindowGeometry: Sendable, Equatable {
    public var channels: Int
    public var height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var outHeight: Int, outWidth: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1,
                outHeight: Int? = nil, outWidth: Int? = nil) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padBottom = padBottom; self.padLeft = padLeft; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW
        self.outHeight = outHeight
            ?? (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1
        self.outWidth = outWidth
            ?? (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1
    }

    public var kernelArea: Int { kernelH * kernelW }
    public var outArea: Int { outHeight * outWidth }
    /// Rows of the lowered matrix: `C·kh·kw`.
    public var columnRows: Int { channels * kernelH * kernelW }
}

/// im2col / col2im (Caffe's lowering): one image `[C, H, W]` becomes the matrix
/// `col[(c·kh + i)·kw + j, oh·OW + ow] = x[c, oh·S − P + i·D, ow·S − P + j·D]`, so a convolution is
/// one sgemm `W[F, C·kh·kw] × col`. Out-of-image reads follow the padding mode through index
/// tables built once, so the inner loops hold no branches but a `< 0` test.
public struct Im2Col: Sendable {
    public let geometry: WindowGeometry
    /// `rowSource[i·OH + oh]`: the input row read by kernel row i at output row oh, or -1 (zero).
    private let rowSource: [Int32]
    /// `colSource[j·OW + ow]`: the input column read by kernel column j at output column ow, or -1.
    private let colSource: [Int32]
    /// For kernel column j, the output columns `lo..<hi` whose reads fall inside the image at
    /// `ow·S − P + j·D`: there the loops copy (stride 1) or gather without table lookups.
    private let interior: [(lo: Int, hi: Int)]

    public init(_ g: WindowGeometry, mode: PaddingMode = .zeros) {
        geometry = g
        var rows = [Int32](repeating: -1, count: g.kernelH * g.outHeight)
        for i in 0..<g.kernelH {
            for oh in 0..<g.outHeight {
                let h = oh * g.strideH - g.padTop + i * g.dilationH
                rows[i * g.outHeight + oh] = Int32(mode.sourceIndex(h, length: g.height))
            }
        }
        var cols = [Int32](repeating: -1, count: g.kernelW * g.outWidth)
        for j in 0..<g.kernelW {
            for ow in 0..<g.outWidth {
                let w = ow * g.strideW - g.padLeft + j * g.dilationW
                cols[j * g.outWidth + ow] = Int32(mode.sourceIndex(w, length: g.width))
            }
        }
        rowSource = rows
        colSource = cols
        interior = (0..<g.kernelW).map { j in
            let offset = j * g.dilationW - g.padLeft
            var lo = 0
            while lo < g.outWidth && lo * g.strideW + offset < 0 { lo += 1 }
            var hi = lo
            while hi < g.outWidth && hi * g.strideW + offset < g.width { hi += 1 }
            return (lo, hi)
        }
    }

    /// Lowers one image `x: [C, H, W]` into `col: [C·kh·kw, OH·OW]`, whose rows are `rowStride`
    /// floats apart (default `OH·OW`; larger when several images share one column matrix, each
    /// in its own block of columns).
    public func lower(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let g = geometry
        let (OH, OW, H, W) = (g.outHeight, g.outWidth, g.height, g.width)
        let stride = rowStride ?? OH * OW
        rowSource.withUnsafeBufferPointer { rs in
            colSource.withUnsafeBufferPointer { cs in
                var r = 0
                for c in 0..<g.channels {
                    let plane = x + c * H * W
                    for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            var dst = col + r * stride
                            r += 1
                            for oh in 0..<OH {
                                let h = Int(rs[i * OH + oh])
                                if h < 0 {
                                    dst.update(repeating: 0, count: OW)
                                } else {
                                    let row = plane + h * W
                                    let (lo, hi) = interior[j], S = g.strideW
                                    let tap = row + j * g.dilationW - g.padLeft
                                    for ow in 0..<lo { let w = Int(cs[j * OW + ow]); dst[ow] = w < 0 ? 0 : row[w] }
                                    if S == 1 {
                                        (dst + lo).update(from: tap + lo, count: hi - lo)
                                    } else {
                                        for ow in lo..<hi { dst[ow] = tap[ow * S] }
                                    }
                                    for ow in hi..<OW { let w = Int(cs[j * OW + ow]); dst[ow] = w < 0 ? 0 : row[w] }
                                }
                                dst += OW
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `lower`: adds `col: [C·kh·kw, OH·OW]` (rows `rowStride` apart) back into
    /// `dx: [C, H, W]`. Padded reads that mapped to a real pixel (reflect, replicate, …) send
    /// their gradient to it.
    public func accumulate(_ col: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let g = geometry
        let (OH, OW, H, W) = (g.outHeight, g.outWidth, g.height, g.width)
        let stride = rowStride ?? OH * OW
        rowSource.withUnsafeBufferPointer { rs in
            colSource.withUnsafeBufferPointer { cs in
                var r = 0
                for c in 0..<g.channels {
                    let plane = dx + c * H * W
                    for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            var src = col + r * stride
                            r += 1
                            for oh in 0..<OH {
                                let h = Int(rs[i * OH + oh])
                                if h >= 0 {
                                    let row = plane + h * W
                                    let (lo, hi) = interior[j], S = g.strideW
                                    let tap = row + j * g.dilationW - g.padLeft
                                    for ow in 0..<lo { let w = Int(cs[j * OW + ow]); if w >= 0 { row[w] += src[ow] } }
                                    if S == 1 {
                                        for ow in lo..<hi { tap[ow] += src[ow] }  // unit stride vectorizes
                                    } else {
                                        for ow in lo..<hi { tap[ow * S] += src[ow] }
                                    }
                                    for ow in hi..<OW { let w = Int(cs[j * OW + ow]); if w >= 0 { row[w] += src[ow] } }
                                }
                                src += OW
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input pixel that output position (oh, ow) reads through kernel tap (i, j), as
    /// `h·W + w`, or -1 for a zero. Direct kernels (depthwise) use this to share the tables.
    @inline(__always)
    public func source(i: Int, oh: Int, j: Int, ow: Int) -> Int {
        let h = Int(rowSource[i * geometry.outHeight + oh])
        let w = Int(colSource[j * geometry.outWidth + ow])
        return h < 0 || w < 0 ? -1 : h * geometry.width + w
    }

    public func rowSourceTable() -> [Int32] { rowSource }
    public func colSourceTable() -> [Int32] { colSource }
}
