import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Binary cross-entropy on logits (one independent sigmoid per output), averaged over all
/// `n·C` elements as PyTorch `nn.BCEWithLogitsLoss(reduction="mean")`:
///
///     ℓ(x, t) = −t·log σ(x) − (1 − t)·log(1 − σ(x)) = max(x, 0) − x·t + log(1 + e^(−|x|))
///     L = (1/(n·C))·Σ_ik ℓ(x_ik, t_ik),        ∂L/∂x_ik = (σ(x_ik) − t_ik)/(n·C)
///
/// The right-hand form never exponentiates a positive number, so it is exact for logits of any
/// size (the same rewriting PyTorch's kernel uses). Targets come from class labels: with
/// `C > 1` outputs they are the one-hot vector of the label; with a single output the label
/// itself (0 or 1) is the target. Label smoothing follows Keras `BinaryCrossentropy`:
/// `t ← t·(1 − ε) + ε/2`, pulling each target toward ½.
public enum BinaryCrossEntropy {
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
        let positive = 1 - epsilon / 2, negative = epsilon / 2
        let scale = Double(weight) / Double(logits.count)
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
                let v = Double(x[k])
                let t = k == hot ? positive : negative
                total += max(v, 0) - v * t + log1p(exp(-abs(v)))
                guard let g else { continue }
                // σ(v) written so that exp only sees non-positive arguments.
                let e = exp(-abs(v))
                let sigmoid = v >= 0 ? 1 / (1 + e) : e / (1 + e)
                g[k] += Float(scale * (sigmoid - t))
            }
        }
        return total / Double(logits.count)
    }
}
