import CNNCore

/// A 1x1 convolution with stride 1 and no padding: each image `[C, H·W]` already is its lowered
/// matrix, so per image and group `Y[g] = W[g] · X[g]` with no im2col (Darknet's 1x1 shortcut):
///
///     weight gradient  dW[g] += dY[g] · X[g]ᵀ
///     input gradient   dX[g] += W[g]ᵀ · dY[g]
///
/// Over 1x1 planes with one group (squeeze-and-excitation's convolutions) the layer is a dense
/// layer over the batch, and its forward is one product `Y[N, F] = X[N, C] · Wᵀ`
/// (`wholeBatch`) instead of a matrix-vector product per image.
final class PointwiseConvolution: ConvolutionAlgorithm {
    let shape: ConvolutionShape
    /// One product over the batch (1x1 planes, one group).
    let wholeBatch: Bool

    init(_ shape: ConvolutionShape) {
        self.shape = shape
        wholeBatch = shape.groups == 1 && shape.geometry.outArea == 1
    }

    var name: String { "pointwise" }
    var forwardsWholeBatch: Bool { wholeBatch }
    func workspaceFloats(batch: Int) -> Int { 0 }

    func forward(_ a: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let area = shape.geometry.outArea, inSize = shape.inputSize, outSize = shape.outputSize
        if wholeBatch {
            gemm(transB: true, m: images.count, n: shape.filters, k: shape.geometry.channels,
                 a: a.x + images.lowerBound * inSize, b: a.weight, c: a.y + images.lowerBound * outSize)
            a.finish(images: images)
            return
        }
        let (mg, kg) = (shape.filters / shape.groups, shape.kernelsPerFilter)
        for b in images {
            let xb = a.x + b * inSize, yb = a.y + b * outSize
            for gr in 0..<shape.groups {
                gemm(m: mg, n: area, k: kg, a: a.weight + gr * mg * kg, b: xb + gr * kg * area, c: yb + gr * mg * area)
            }
            a.finish(images: b..<b + 1)
        }
    }

    func backward(_ a: ConvolutionBackward, images: Range<Int>, weightGradient dw: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>) {
        let area = shape.geometry.outArea, inSize = shape.inputSize, outSize = shape.outputSize
        let (mg, kg) = (shape.filters / shape.groups, shape.kernelsPerFilter)
        for b in images {
            let xb = a.x + b * inSize, dyb = a.dy + b * outSize
            if let db { addRowSums(dyb, rows: shape.filters, length: area, stride: area, into: db) }
            for gr in 0..<shape.groups {
                gemm(transB: true, m: mg, n: kg, k: area, a: dyb + gr * mg * area, b: xb + gr * kg * area,
                     beta: 1, c: dw + gr * mg * kg)
                if let dx = a.dx {
                    gemm(transA: true, m: kg, n: area, k: mg, a: a.weight + gr * mg * kg, b: dyb + gr * mg * area,
                         beta: 1, c: dx + b * inSize + gr * kg * area)
                }
            }
        }
    }
}
