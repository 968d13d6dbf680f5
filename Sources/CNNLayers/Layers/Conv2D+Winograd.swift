import CNNCore

/// 3x3, stride-1 convolutions through Winograd's F(4×4, 3×3) (`WinogradPlan`): forward, input
/// gradient (the plan's `inputGradientPlan` with the flipped kernels) and weight gradient, each
/// 36 sgemm calls per block of tiles with 4× fewer multiplications than the direct form.
extension Conv2D {
    /// Channels and filters from which the transforms pay for themselves, against im2col + sgemm
    /// and against the AVX-512 direct kernels alike. ResNet-20 training, 2 threads, images/s:
    /// with `CNNCTL_AVX512=off`, 539 → 1,015; with the direct kernels, Winograd from 64 channels
    /// 1,082–1,126, from 32 1,247–1,282, from 16 1,236–1,274 (against 1,214–1,235 from 32),
    /// once small images ran with lanes across images (`WinogradPlan.lanesAcrossImages`).
    static let winogradMinimumChannels = 16

    /// Images from which a call runs through Winograd (`winogradMinimumBatch`, which tests lower):
    /// below, transforming the kernels on every call costs more than it saves (VGG-style net
    /// with and without Winograd: batch-1 latency 3.9 against 2.5 ms; batch 4, training 222
    /// against 279 images/s and inference 854 against 972; batch 8, 326 against 313 and 1,175
    /// against 1,045).
    static let defaultWinogradMinimumBatch = 8

    func winogradPlan(batch: Int) -> WinogradPlan? { batch >= winogradMinimumBatch ? winograd : nil }

    /// Whether this layer runs through Winograd (for `bench`).
    public var usesWinograd: Bool { winograd != nil }

    /// The rule, as `bench` prints it.
    public static var winogradRule: String {
        WinogradPlan.enabled
            ? "3x3 stride-1 zero-padded convolutions with ≥ \(winogradMinimumChannels) channels and filters; "
                + "\(WinogradPlan.variable)=off turns it off"
            : "off (\(WinogradPlan.variable)=off)"
    }

    /// The plan where it applies: a 3x3 kernel, stride 1, no dilation, one group, zero padding of
    /// at most 2 per side, and at least `winogradMinimumChannels` channels and filters.
    static func winogradPlan(_ g: WindowGeometry, filters: Int, groups: Int, mode: PaddingMode) -> WinogradPlan? {
        guard WinogradPlan.enabled, g.kernelH == 3, g.kernelW == 3, g.strideH == 1, g.strideW == 1,
              g.dilationH == 1, g.dilationW == 1, groups == 1, mode == .zeros,
              [g.padTop, g.padBottom, g.padLeft, g.padRight].allSatisfy({ $0 <= 2 }),
              g.channels >= winogradMinimumChannels, filters >= winogradMinimumChannels
        else { return nil }
        return WinogradPlan(channels: g.channels, height: g.height, width: g.width, filters: filters,
                            padTop: g.padTop, padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight)
    }

    /// One part's workspace: the largest chunk buffer of the three passes, then the transformed
    /// weight gradient Ŵ.
    func winogradWorkspace(_ plan: WinogradPlan, batch: Int) -> Int {
        let chunk = plan.chunk(batch: batch), back = winogradInputGradient?.forwardFloats(images: chunk) ?? 0
        return max(plan.forwardFloats(images: chunk), back) + plan.weightFloats
    }

    func forwardWinograd(_ a: ForwardParts, plan: WinogradPlan, images: Range<Int>,
                         workspace: UnsafeMutablePointer<Float>) {
        let g = geometry, inSize = g.channels * g.height * g.width, outSize = filters * g.outArea
        let chunk = plan.chunk(batch: a.batch)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            plan.forward(a.x + b0 * inSize, images: m, weights: a.weight, into: a.y + b0 * outSize, adding: false,
                         workspace: workspace)
            finish(a, images: b0..<b0 + m)
        }
    }

    /// Per chunk: bias sums, Ŵ += D·Vᵀ, and dX (+)= the input-gradient plan's forward of dY
    /// (`a.weight` holds its transformed flipped kernels); then dW += Gᵀ Ŵ G once.
    func backwardWinograd(_ a: BackwardParts, plan: WinogradPlan, images: Range<Int>,
                          weightGrad dw: UnsafeMutablePointer<Float>, biasGrad db: UnsafeMutablePointer<Float>?,
                          workspace: UnsafeMutablePointer<Float>) {
        let g = geometry, area = g.outArea, inSize = g.channels * g.height * g.width, outSize = filters * area
        let chunk = plan.chunk(batch: a.batch)
        let transformed = workspace + winogradWorkspace(plan, batch: a.batch) - plan.weightFloats
        transformed.update(repeating: 0, count: plan.weightFloats)
        for b0 in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
            let m = min(chunk, images.upperBound - b0)
            if let db {
                for b in b0..<b0 + m { Self.addRowSums(a.dy + b * outSize, rows: filters, length: area, stride: area, into: db) }
            }
            plan.weightGradient(a.x + b0 * inSize, dy: a.dy + b0 * outSize, images: m, into: transformed,
                                workspace: workspace)
            if let dx = a.dx, let back = winogradInputGradient {
                back.forward(a.dy + b0 * outSize, images: m, weights: a.weight, into: dx + b0 * inSize,
                             adding: !a.overwriting, workspace: workspace)
            }
        }
        plan.addWeightGradient(transformed, into: dw)
    }
}
