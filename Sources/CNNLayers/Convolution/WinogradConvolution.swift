import CNNCore

/// A 3x3, stride-1 convolution through Winograd's F(4×4, 3×3) (`WinogradPlan`; Lavin & Gray
/// 2016): forward, input gradient (the plan's `inputGradientPlan` with the flipped kernels) and
/// weight gradient, each 36 sgemm calls per block of tiles with 4× fewer multiplications than
/// the direct form. The kernels are transformed on every call, which only pays from
/// `ConvolutionSelection.winogradMinimumBatch` images; smaller batches take the layer's
/// small-batch algorithm.
final class WinogradConvolution: ConvolutionAlgorithm {
    let shape: ConvolutionShape
    let plan: WinogradPlan, inputGradient: WinogradPlan
    /// The transformed kernels `U` and those of the input gradient, made on every call.
    private let transformedWeight: DeferredBuffer, transformedFlippedWeight: DeferredBuffer

    init(_ shape: ConvolutionShape, plan: WinogradPlan) {
        self.shape = shape
        self.plan = plan
        inputGradient = plan.inputGradientPlan
        transformedWeight = DeferredBuffer(count: plan.weightFloats)
        transformedFlippedWeight = DeferredBuffer(count: inputGradient.weightFloats)
    }

    var name: String { "winograd" }
    /// Its input gradient is the forward of `inputGradient`, which writes every element.
    var overwritesInputGradient: Bool { true }

    /// The largest chunk buffer of the three passes, then the transformed weight gradient Ŵ.
    func workspaceFloats(batch: Int) -> Int {
        let chunk = plan.chunk(batch: batch)
        return max(plan.forwardFloats(images: chunk), inputGradient.forwardFloats(images: chunk)) + plan.weightFloats
    }

    func forwardWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> {
        plan.transformWeights(w, flipped: false, into: transformedWeight.data, pool: pool)
        return transformedWeight.data
    }

    func inputGradientWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> {
        inputGradient.transformWeights(w, flipped: true, into: transformedFlippedWeight.data, pool: pool)
        return transformedFlippedWeight.data
    }

    func forward(_ a: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let inSize = shape.inputSize, outSize = shape.outputSize, chunk = plan.chunk(batch: a.batch)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            plan.forward(a.x + b0 * inSize, images: m, weights: a.weight, into: a.y + b0 * outSize, adding: false,
                         workspace: workspace)
            a.finish(images: b0..<b0 + m)
        }
    }

    /// Per chunk: bias sums, Ŵ += D·Vᵀ, and dX (+)= the input-gradient plan's forward of dY
    /// (`a.weight` holds its transformed flipped kernels); then dW += Gᵀ Ŵ G once.
    func backward(_ a: ConvolutionBackward, images: Range<Int>, weightGradient dw: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>) {
        let filters = shape.filters, area = shape.geometry.outArea
        let inSize = shape.inputSize, outSize = shape.outputSize, chunk = plan.chunk(batch: a.batch)
        let transformed = workspace + workspaceFloats(batch: a.batch) - plan.weightFloats
        transformed.update(repeating: 0, count: plan.weightFloats)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            if let db {
                for b in b0..<b0 + m { addRowSums(a.dy + b * outSize, rows: filters, length: area, stride: area, into: db) }
            }
            plan.weightGradient(a.x + b0 * inSize, dy: a.dy + b0 * outSize, images: m, into: transformed,
                                workspace: workspace)
            if let dx = a.dx {
                inputGradient.forward(a.dy + b0 * outSize, images: m, weights: a.weight, into: dx + b0 * inSize,
                                      adding: !a.overwriting, workspace: workspace)
            }
        }
        plan.addWeightGradient(transformed, into: dw)
    }
}
