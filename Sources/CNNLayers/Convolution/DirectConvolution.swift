import CNNCore
import CNNAVX512

/// A convolution computed directly on zero-padded planes by the AVX-512 register-blocked kernels
/// (`DirectConvPlan`; Georganas et al. 2018), without im2col: dense convolutions with stride 1
/// or 2 (stride 2 on the padded planes' four phases) and depthwise ones with stride 1 and one
/// filter per channel.
///
///     forward          each image padded, convolved into a stage, scattered into Y
///     weight gradient  per chunk of images: padded X against spread dY
///     input gradient   a forward pass of the padded dY with the flipped weights
///                      (stride 1: `inputGradientPlan`; stride 2: one pass per phase,
///                      `PhaseInputGradient`), per image
///
/// Only made where the build's `KernelOptions.avx512` holds (`ConvolutionSelection`).
final class DirectConvolution: ConvolutionAlgorithm {
    let shape: ConvolutionShape
    let plan: DirectConvPlan
    /// Stride 1: the input gradient's own stride-1 plan, on the padded dY.
    let inputGradient: DirectConvPlan?
    /// Stride 2: the input gradient's phases.
    let phases: PhaseInputGradient?
    /// `plan.spreadInputGradientShift`, worked out once (it builds a plan, and a plan allocates).
    let spreadShift: Int?
    /// One filter per channel: the depthwise kernels, which read the weights unpacked.
    let depthwise: Bool
    /// The weights in the kernels' register-block order, repacked on every call (dense only),
    /// and the flipped ones of the input gradient.
    private let packedWeight: DeferredBuffer?, packedFlippedWeight: DeferredBuffer

    init(_ shape: ConvolutionShape, plan: DirectConvPlan, depthwise: Bool) {
        self.shape = shape
        self.plan = plan
        self.depthwise = depthwise
        inputGradient = plan.inputGradientPlan
        phases = plan.stride == 2 ? PhaseInputGradient(plan) : nil
        spreadShift = plan.spreadInputGradientShift
        if depthwise {
            packedWeight = nil
            packedFlippedWeight = DeferredBuffer(count: plan.channels * plan.kernelArea)
        } else {
            packedWeight = DeferredBuffer(count: plan.kernel.packedWeightFloats)
            let flipped = inputGradient?.kernel.packedWeightFloats ?? phases?.packedWeightFloats ?? 0
            packedFlippedWeight = DeferredBuffer(count: flipped)
        }
    }

    var name: String { "direct" }
    /// The stride-1 input gradient writes every element of dX once.
    var overwritesInputGradient: Bool { inputGradient != nil }

    /// Images whose padded planes and spread gradients go into one weight-gradient call (their
    /// sums then leave the registers once), capped like the lowered chunks.
    func chunk(batch: Int) -> Int {
        max(1, min(batch, ConvolutionSelection.chunkFloats / ((plan.planes + plan.filters) * plan.planeStride)))
    }

    /// Forward: one padded image and its stage. Backward: a chunk's padded images and spread
    /// gradients, then one image's padded gradient and stage for the input gradient. Padded
    /// images and stages get the depthwise kernel's slack.
    func workspaceFloats(batch: Int) -> Int {
        let chunk = chunk(batch: batch), slack = 2 * DirectConvPlan.depthwiseSlack
        let back = inputGradient.map { $0.paddedFloats(images: 1) + $0.kernel.stageFloats + slack }
            ?? phases?.workspaceFloats ?? 0
        return max(plan.paddedFloats(images: 1) + plan.kernel.stageFloats + slack,
                   plan.paddedFloats(images: chunk) + plan.spreadFloats(images: chunk) + back)
    }

    func forwardWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> {
        guard let packed = packedWeight?.data else { return w }
        plan.pack(weights: w, flipped: false, into: packed)
        return packed
    }

    func inputGradientWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> {
        let packed = packedFlippedWeight.data
        if let back = inputGradient {
            if depthwise {
                back.flipDepthwise(w, into: packed)
            } else {
                back.pack(weights: w, flipped: true, into: packed)
            }
        } else if let phases {
            phases.pack(weights: w, into: packed)
        }
        return packed
    }

    /// Each image padded, convolved into the stage and scattered into Y (weights packed).
    func forward(_ a: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let inSize = shape.inputSize, outSize = shape.outputSize
        let xp = workspace, stage = workspace + plan.paddedFloats(images: 1) + DirectConvPlan.depthwiseSlack
        for b in images {
            plan.pad(a.x + b * inSize, images: 1, into: xp)
            if depthwise {
                plan.depthwiseForward(padded: xp, weight: a.weight, stage: stage)
            } else {
                plan.kernel.forward(input: xp, packed: a.weight, stage: stage)
            }
            plan.scatter(stage, into: a.y + b * outSize, adding: false)
            a.finish(images: b..<b + 1)
        }
    }

    /// Per chunk: the images padded and their gradients spread for the weight gradient; then per
    /// image the input gradient as a forward pass of the padded dY with the flipped weights
    /// (`a.weight` holds them packed; stride 2: one pass per phase), added into dX. Where the
    /// output has the input's size, the spread dY already is the padded one, a row and a column
    /// further on (`spreadInputGradientShift`); the few zeros before the first image's are written
    /// into the end of the padded images' region, which this chunk's weight gradient has read.
    func backward(_ a: ConvolutionBackward, images: Range<Int>, weightGradient dw: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>) {
        let filters = shape.filters, area = shape.geometry.outArea
        let inSize = shape.inputSize, outSize = shape.outputSize
        let chunk = chunk(batch: a.batch)
        let xp = workspace, dys = xp + plan.paddedFloats(images: chunk), dyp = dys + plan.spreadFloats(images: chunk)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            if let db {
                for b in b0..<b0 + m { addRowSums(a.dy + b * outSize, rows: filters, length: area, stride: area, into: db) }
            }
            plan.pad(a.x + b0 * inSize, images: m, into: xp)
            plan.spread(a.dy + b0 * outSize, images: m, into: dys)
            if depthwise {
                plan.depthwiseWeightGradient(padded: xp, spread: dys, images: m, into: dw)
            } else {
                plan.weightGradient(padded: xp, spread: dys, images: m, into: dw)
            }
            guard let dx = a.dx else { continue }
            if let phases {
                for b in b0..<b0 + m {
                    phases.addGradient(dy: a.dy + b * outSize, packed: a.weight, into: dx + b * inSize, workspace: dyp)
                }
                continue
            }
            guard let back = inputGradient else { continue }
            let stage = dyp + back.paddedFloats(images: 1) + DirectConvPlan.depthwiseSlack
            if let spreadShift { (dys - spreadShift).update(repeating: 0, count: spreadShift) }
            for b in b0..<b0 + m {
                let input: UnsafeMutablePointer<Float>
                if let spreadShift {
                    input = dys + (b - b0) * filters * plan.planeStride - spreadShift
                } else {
                    back.pad(a.dy + b * outSize, images: 1, into: dyp)
                    input = dyp
                }
                if depthwise {
                    back.depthwiseForward(padded: input, weight: a.weight, stage: stage)
                } else {
                    back.kernel.forward(input: input, packed: a.weight, stage: stage)
                }
                back.scatter(stage, into: dx + b * inSize, adding: !a.overwriting)
            }
        }
    }
}
