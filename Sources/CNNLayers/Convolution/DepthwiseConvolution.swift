import CNNCore
import CNNAVX512

/// A depthwise convolution (groups == channels, `multiplier` filters per channel; MobileNet,
/// Xception) by direct loops over each plane (`DepthwiseConv`): lowering would make one thin
/// product per channel. Any stride, padding mode and dilation.
///
/// With stride 2 on AVX-512 (one filter per channel, zero padding, no dilation) the forward runs
/// on the four phases of each padded plane (`PhaseDepthwisePlan`), where sixteen neighbouring
/// outputs read sixteen neighbouring floats; the backward keeps the loops.
final class DepthwiseConvolution: ConvolutionAlgorithm {
    let shape: ConvolutionShape
    let depthwise: DepthwiseConv
    let phases: PhaseDepthwisePlan?

    init(_ shape: ConvolutionShape, depthwise: DepthwiseConv, phases: PhaseDepthwisePlan?) {
        self.shape = shape
        self.depthwise = depthwise
        self.phases = phases
    }

    var name: String { "depthwise" }

    /// One image's phase planes and stage.
    func workspaceFloats(batch: Int) -> Int { phases.map { $0.phaseFloats + $0.stageFloats } ?? 0 }

    func forward(_ a: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        let inSize = shape.inputSize, outSize = shape.outputSize
        for b in images {
            let xb = a.x + b * inSize, yb = a.y + b * outSize
            if let plan = phases {
                let stage = workspace + plan.phaseFloats
                plan.deinterleave(xb, into: workspace)
                plan.forward(phases: workspace, weight: a.weight, stage: stage)
                plan.scatter(stage, into: yb)
            } else {
                depthwise.forward(x: xb, weight: a.weight, y: yb)
            }
            a.finish(images: b..<b + 1)
        }
    }

    func backward(_ a: ConvolutionBackward, images: Range<Int>, weightGradient dw: UnsafeMutablePointer<Float>,
                  biasGradient db: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>) {
        let area = shape.geometry.outArea, inSize = shape.inputSize, outSize = shape.outputSize
        for b in images {
            let xb = a.x + b * inSize, dyb = a.dy + b * outSize
            if let db { addRowSums(dyb, rows: shape.filters, length: area, stride: area, into: db) }
            depthwise.backward(x: xb, weight: a.weight, dy: dyb, dx: a.dx.map { $0 + b * inSize }, dw: dw)
        }
    }
}
