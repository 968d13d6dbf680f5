import CNNCore

// How one convolution call is split between the worker pool's parts: each part runs the
// algorithm on its share of the batch's images in its own slice of the layer's workspace. In
// backward each part accumulates private weight and bias gradients at the end of its slice, which
// are then summed into the layer's (a single part writes the layer's directly), so no two parts
// write the same memory.

/// One forward call, for the worker pool.
struct ForwardParts: PartitionedWork {
    let algorithm: any ConvolutionAlgorithm, call: ConvolutionForward
    let workspace: UnsafeMutablePointer<Float>, slice: Int, parts: Int

    func run(part: Int) {
        guard part < parts else { return }
        algorithm.forward(call, images: WorkerPool.share(call.batch, part: part, of: parts),
                          workspace: workspace + part * slice)
    }
}

/// One backward call, for the worker pool: part `part`'s images, into its private gradients at
/// the end of its slice (the layer's own with one part).
struct BackwardParts: PartitionedWork {
    let algorithm: any ConvolutionAlgorithm, call: ConvolutionBackward
    let weightGrad: UnsafeMutablePointer<Float>, biasGrad: UnsafeMutablePointer<Float>?
    let workspace: UnsafeMutablePointer<Float>, slice: Int, parts: Int
    /// Floats of the private weight and bias gradients, and of the weight's (the bias follows).
    let gradientFloats: Int, weightCount: Int

    func run(part: Int) {
        guard part < parts else { return }
        let ws = workspace + part * slice, own = ws + slice - gradientFloats
        let (dw, db) = parts == 1 ? (weightGrad, biasGrad) : (own, biasGrad == nil ? nil : own + weightCount)
        if parts > 1 { own.update(repeating: 0, count: gradientFloats) }
        algorithm.backward(call, images: WorkerPool.share(call.batch, part: part, of: parts),
                           weightGradient: dw, biasGradient: db, workspace: ws)
    }

    /// Adds every part's private gradients into the layer's, after `run` (nothing with one part).
    func sumPrivateGradients() {
        guard parts > 1 else { return }
        let filters = gradientFloats - weightCount
        for part in 0..<parts {
            let own = workspace + part * slice + slice - gradientFloats
            for i in 0..<weightCount { weightGrad[i] += own[i] }
            if let biasGrad { for f in 0..<filters { biasGrad[f] += own[weightCount + f] } }
        }
    }
}
