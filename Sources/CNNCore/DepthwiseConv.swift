/// A direct depthwise convolution (groups == channels), so MobileNet/Xception-style layers do not
/// pay for one im2col + a 1-row sgemm per channel (the reason Caffe is slow on them).
///
/// `x: [C, H, W]`, `w: [C·M, kh, kw]` (M = channel multiplier), `y: [C·M, OH, OW]`; output
/// channel `c·M + m` reads input channel `c`. Out-of-image reads follow the padding tables.
public struct DepthwiseConv: Sendable {
    public let lowering: Im2Col
    public let multiplier: Int
    private let rows: [Int32]
    private let cols: [Int32]

    public init(_ lowering: Im2Col, multiplier: Int) {
        self.lowering = lowering
        self.multiplier = multiplier
        rows = lowering.rowSourceTable()
        cols = lowering.colSourceTable()
    }

    /// y = conv(x, w) for one image (bias not included).
    public func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let g = lowering.geometry
        let (H, W, OH, OW, KH, KW) = (g.height, g.width, g.outHeight, g.outWidth, g.kernelH, g.kernelW)
        rows.withUnsafeBufferPointer { rs in
            cols.withUnsafeBufferPointer { cs in
                for c in 0..<g.channels {
                    let plane = x + c * H * W
                    for m in 0..<multiplier {
                        let oc = c * multiplier + m
                        let k = weight + oc * KH * KW
                        let out = y + oc * OH * OW
                        out.update(repeating: 0, count: OH * OW)
                        for i in 0..<KH {
                            for oh in 0..<OH {
                                let h = Int(rs[i * OH + oh])
                                if h < 0 { continue }
                                let row = plane + h * W
                                let dst = out + oh * OW
                                for j in 0..<KW {
                                    let wv = k[i * KW + j]
                                    let tap = cs.baseAddress! + j * OW
                                    for ow in 0..<OW {
                                        let s = Int(tap[ow])
                                        if s >= 0 { dst[ow] += wv * row[s] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the gradients of one image: `dx` (if given) and `dw` from `dy`.
    public func backward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>) {
        let g = lowering.geometry
        let (H, W, OH, OW, KH, KW) = (g.height, g.width, g.outHeight, g.outWidth, g.kernelH, g.kernelW)
        rows.withUnsafeBufferPointer { rs in
            cols.withUnsafeBufferPointer { cs in
                for c in 0..<g.channels {
                    let plane = x + c * H * W
                    let dplane = dx.map { $0 + c * H * W }
                    for m in 0..<multiplier {
                        let oc = c * multiplier + m
                        let k = weight + oc * KH * KW
                        let dk = dw + oc * KH * KW
                        let grad = dy + oc * OH * OW
                        for i in 0..<KH {
                            for oh in 0..<OH {
                                let h = Int(rs[i * OH + oh])
                                if h < 0 { continue }
                                let row = plane + h * W
                                let g = grad + oh * OW
                                for j in 0..<KW {
                                    let tap = cs.baseAddress! + j * OW
                                    let wv = k[i * KW + j]
                                    var acc: Float = 0
                                    if let dplane {
                                        let drow = dplane + h * W
                                        for ow in 0..<OW {
                                            let s = Int(tap[ow])
                                            if s >= 0 { acc += g[ow] * row[s]; drow[s] += wv * g[ow] }
                                        }
                                    } else {
                                        for ow in 0..<OW {
                                            let s = Int(tap[ow])
                                            if s >= 0 { acc += g[ow] * row[s] }
                                        }
                                    }
                                    dk[i * KW + j] += acc
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
