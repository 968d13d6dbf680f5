import CNNCore

/// Mean squared error between the outputs and one-hot targets built from class labels, averaged
/// over all `n·C` elements as PyTorch `nn.MSELoss(reduction="mean")`:
///
///     L = (1/(n·C))·Σ_ik (x_ik − t_ik)²,        ∂L/∂x_ik = 2·(x_ik − t_ik)/(n·C)
///
/// With `C > 1` outputs `t` is the one-hot vector of the label, smoothed like cross-entropy's
/// targets, `t = (1 − ε)·onehot + ε/C` (so each target row still sums to 1); with a single
/// output the label itself (0 or 1) is the target, smoothed toward ½ as a binary target,
/// `t ← t·(1 − ε) + ε/2` (what the `C = 2` rule gives each output).
public enum MeanSquaredError {
    /// The mean loss over the batch's `n·C` elements (not multiplied by `weight`). When
    /// `gradient` is given, `weight·∂L/∂logits` is ADDED to it.
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
        let epsilon = Double(smoothing)
        // Target of the hot output and of every other output.
        let offTarget = outputs == 1 ? epsilon / 2 : epsilon / Double(outputs)
        let onTarget = 1 - epsilon + offTarget
        let scale = 2 * Double(weight) / Double(logits.count)
        var total = 0.0
        for i in 0..<n {
            let x = UnsafePointer(logits.data + i * outputs)
            let label = Int(labels[i])
            precondition(label >= 0 && label < max(outputs, 2),
                         "label \(label) not in 0..<\(max(outputs, 2))")
            // With one output the label is the target; otherwise it picks the hot output.
            let hot = outputs == 1 ? (label == 1 ? 0 : -1) : label
            let g = gradient.map { $0.data + i * outputs }
            for k in 0..<outputs {
                let d = Double(x[k]) - (k == hot ? onTarget : offTarget)
                total += d * d
                g?[k] += Float(scale * d)
            }
        }
        return total / Double(logits.count)
    }
}
