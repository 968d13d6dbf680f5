import CNNCore

/// A convolution lowered to matrix products (Caffe's `base_conv_layer.cpp`, Darknet's
/// `im2col.c` + `gemm.c`): each image's windows become the columns of a `[C/groups·kh·kw, OH·OW]`
/// matrix (`Im2Col`, any padding mode, stride and dilation), and per group
///
///     forward          Y[g]   = W[g] · col[g]
///     weight gradient  dW[g] += dY[g] · col[g]ᵀ
///     input gradient   dcol[g] = W[g]ᵀ · dY[g],  then col2im adds dcol into dX
///
/// Images are lowered in chunks side by side (`chunkSize`): per-image products of small images
/// are too thin for sgemm. The general algorithm: every convolution can run this way.
final class LoweredConvolution: ConvolutionAlgorithm {
    let shape: ConvolutionShape
    let lowering: Im2Col

    init(_ shape: ConvolutionShape, lowering: Im2Col) {
        self.shape = shape
        self.lowering = lowering
    }

    var name: String { "lowered" }

    /// Images lowered together into one column matrix, capped so the workspace stays
    /// cache-resident (`ConvolutionSelection.chunkFloats`). Forward lowers images of at least
    /// `ConvolutionSelection.perImageArea` output positions one at a time, so that the product
    /// lands in Y itself.
    func chunkSize(batch: Int, forward: Bool = false) -> Int {
        let g = shape.geometry
        if forward && g.outArea >= ConvolutionSelection.perImageArea { return 1 }
        return max(1, min(batch, ConvolutionSelection.chunkFloats / ((2 * g.columnRows + shape.filters) * g.outArea)))
    }

    /// A chunk's column matrix, its gradient and a staging matrix `[F, chunk·OH·OW]`.
    func workspaceFloats(batch: Int) -> Int {
        let g = shape.geometry
        return (2 * g.columnRows + shape.filters) * chunkSize(batch: batch) * g.outArea
    }

    /// im2col of a chunk of images side by side, one sgemm per group into a staging matrix
    /// `[F, m·OH·OW]`, then a scatter into the NCHW output.
    func forward(_ a: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let (x, y, w) = (a.x, a.y, a.weight)
        let g = shape.geometry, area = g.outArea, chunk = chunkSize(batch: images.count, forward: true)
        let (filters, groups) = (shape.filters, shape.groups)
        let inSize = shape.inputSize, outSize = shape.outputSize
        let (mg, kg) = (filters / groups, shape.kernelsPerFilter * g.kernelArea)
        let col = workspace, stage = workspace + 2 * g.columnRows * chunk * area
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0), cols = m * area
            for i in 0..<m { lowering.lower(x + (b0 + i) * inSize, into: col + i * area, rowStride: cols) }
            // One image: the product lands in the output itself.
            let target = chunk == 1 ? y + b0 * outSize : stage
            for gr in 0..<groups {
                gemm(m: mg, n: cols, k: kg, a: w + gr * mg * kg, b: col + gr * kg * cols, c: target + gr * mg * cols)
            }
            if chunk > 1 {
                for i in 0..<m {
                    for f in 0..<filters {
                        (y + (b0 + i) * outSize + f * area).update(from: stage + f * cols + i * area, count: area)
                    }
                }
            }
            a.finish(images: b0..<b0 + m)
        }
    }

    /// Gathers a chunk's dY into `[F, m·OH·OW]`, then per group dW += dY·colᵀ and dcol = Wᵀ·dY,
    /// and col2im of each image's block of dcol (into zeros when overwriting: a Winograd
    /// layer's small batches come here).
    func backward(_ a: ConvolutionBackward, images: Range<Int>, weightGradient dw: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>) {
        let (x, dy, w) = (a.x, a.dy, a.weight)
        let g = shape.geometry, area = g.outArea, chunk = chunkSize(batch: images.count)
        let (filters, groups) = (shape.filters, shape.groups)
        let inSize = shape.inputSize, outSize = shape.outputSize
        let (mg, kg) = (filters / groups, shape.kernelsPerFilter * g.kernelArea)
        let col = workspace, dcol = workspace + g.columnRows * chunk * area
        let stage = workspace + 2 * g.columnRows * chunk * area
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0), cols = m * area
            for i in 0..<m {
                for f in 0..<filters {
                    (stage + f * cols + i * area).update(from: dy + (b0 + i) * outSize + f * area, count: area)
                }
            }
            if let db { addRowSums(stage, rows: filters, length: cols, stride: cols, into: db) }
            for i in 0..<m { lowering.lower(x + (b0 + i) * inSize, into: col + i * area, rowStride: cols) }
            for gr in 0..<groups {
                gemm(transB: true, m: mg, n: kg, k: cols, a: stage + gr * mg * cols, b: col + gr * kg * cols,
                     beta: 1, c: dw + gr * mg * kg)
            }
            guard let dx = a.dx else { continue }
            for gr in 0..<groups {
                gemm(transA: true, m: kg, n: cols, k: mg, a: w + gr * mg * kg, b: stage + gr * mg * cols,
                     c: dcol + gr * kg * cols)
            }
            if a.overwriting { (dx + b0 * inSize).update(repeating: 0, count: m * inSize) }
            for i in 0..<m { lowering.accumulate(dcol + i * area, into: dx + (b0 + i) * inSize, rowStride: cols) }
        }
    }
}
