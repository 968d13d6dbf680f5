import CNNCore

/// A loss that scores every output on its own against a target built from its row's class
/// label (`BinaryCrossEntropy`, `MeanSquaredError`), averaged over all `n·C` elements:
///
///     L = (1/(n·C))·Σ_ik ℓ(x_ik, t_ik),        ∂L/∂x_ik = gradientFactor·slope(x_ik, t_ik)/(n·C)
///
/// The label's output is the hot one and aims at the hot target, every other output at the
/// other target. With a single output the label itself (0 or 1) is the target: label 1 makes
/// output 0 hot, label 0 leaves none hot. A loss says its targets (how smoothing moves them), ℓ,
/// and ℓ′ as a constant factor times a slope; `evaluate` is the loop around them, the same for all.
public protocol ElementwiseLoss {
    /// The targets of the hot output and of every other output, for smoothing ε and `outputs`
    /// outputs per row.
    static func targets(smoothing epsilon: Double, outputs: Int) -> (hot: Double, other: Double)
    /// ℓ(x, t).
    static func loss(_ x: Double, _ t: Double) -> Double
    /// The constant part of ℓ′: `∂ℓ/∂x = gradientFactor · slope(x, t)`.
    static var gradientFactor: Double { get }
    static func slope(_ x: Double, _ t: Double) -> Double
}

extension ElementwiseLoss {
    /// The mean loss over the batch's `n·C` elements (not multiplied by `weight`), summed in
    /// Double in element order. When `gradient` is given, `weight·∂L/∂logits` is ADDED to it.
    ///
    /// - Parameters:
    ///   - logits: `n·C` values, one row of `C` per label (`[n, C]`, or `[N, T, C]` for `N·T` labels).
    ///   - labels: `n` class indices in `0..<C` (in `0...1` when `C == 1`); callers validate
    ///     labels against the model's outputs before training, so here a bad label traps.
    ///   - smoothing: ε in `0...1`.
    public static func evaluate(logits: Tensor, labels: UnsafeBufferPointer<Int32>,
                                smoothing: Float = 0, gradient: Tensor? = nil,
                                weight: Float = 1) -> Double {
        let (n, outputs) = LossArguments.check(logits: logits, labels: labels, smoothing: smoothing,
                                                   gradient: gradient)
        let (hotTarget, otherTarget) = targets(smoothing: Double(smoothing), outputs: outputs)
        let scale = gradientFactor * Double(weight) / Double(logits.count)
        var total = 0.0
        for i in 0..<n {
            let x = UnsafePointer(logits.data + i * outputs)
            let label = Int(labels[i])
            precondition(label >= 0 && label < max(outputs, 2),
                         "label \(label) not in 0..<\(max(outputs, 2))")
            let hot = outputs == 1 ? (label == 1 ? 0 : -1) : label
            let g = gradient.map { $0.data + i * outputs }
            for k in 0..<outputs {
                let v = Double(x[k]), t = k == hot ? hotTarget : otherTarget
                total += loss(v, t)
                if let g { g[k] += Float(scale * slope(v, t)) }
            }
        }
        return total / Double(logits.count)
    }
}
