import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Softmax cross-entropy on raw logits with optional label smoothing, averaged over the batch,
/// as PyTorch `nn.CrossEntropyLoss(label_smoothing=ε, reduction="mean")`:
///
///     t_k = (1 − ε)·[k = y] + ε/C
///     L_i = −Σ_k t_k·log softmax(x_i)_k = lse(x_i) − Σ_k t_k·x_ik
///     lse(x) = m + log Σ_k e^(x_k − m)
///     L   = (1/n)·Σ_i L_i,        ∂L/∂x_ik = (softmax(x_i)_k − t_k)/n
///
/// with `m = max_k x_k`, so no `exp` overflows however large the logits (Szegedy et al. 2016,
/// "Rethinking the Inception Architecture", §7, for the smoothing). Per-sample work is in
/// Double: the loss is reported as Double and a Float `log Σ exp` loses digits for confident
/// predictions, where the loss is tiny.
public enum SoftmaxCrossEntropy {
    /// The mean loss of the batch (not multiplied by `weight`). When `gradient` is given,
    /// `weight·∂L/∂logits` is ADDED to it, so several losses can accumulate into one tensor.
    ///
    /// - Parameters:
    ///   - logits: `n·C` values, one row of `C` per label (`[n, C]`, or `[N, T, C]` for `N·T` labels).
    ///   - labels: `n` class indices in `0..<C`. Callers check labels against the model's
    ///     output count once before training (a mismatch is a configuration error there);
    ///     here a label out of range is a programming error and traps.
    ///   - smoothing: ε in `0...1`.
    public static func evaluate(logits: Tensor, labels: UnsafeBufferPointer<Int32>,
                                smoothing: Float = 0, gradient: Tensor? = nil,
                                weight: Float = 1) -> Double {
        let (n, classes) = LossArguments.check(logits: logits, labels: labels, smoothing: smoothing,
                                                   gradient: gradient)
        let epsilon = Double(smoothing)
        let onHot = 1 - epsilon, offHot = epsilon / Double(classes)
        let scale = Double(weight) / Double(n)
        var total = 0.0
        for i in 0..<n {
            let x = UnsafePointer(logits.data + i * classes)
            let label = Int(labels[i])
            precondition(label >= 0 && label < classes, "label \(label) not in 0..<\(classes)")
            var m = Double(x[0])
            for k in 1..<max(classes, 1) { m = max(m, Double(x[k])) }
            var sum = 0.0, xSum = 0.0
            for k in 0..<classes {
                let v = Double(x[k])
                sum += exp(v - m)
                xSum += v
            }
            let lse = m + log(sum)
            // Σ_k t_k·x_k = (1 − ε)·x_y + (ε/C)·Σ_k x_k.
            total += lse - onHot * Double(x[label]) - offHot * xSum
            guard let gradient else { continue }
            let g = gradient.data + i * classes
            for k in 0..<classes {
                let target = (k == label ? onHot : 0) + offHot
                g[k] += Float(scale * (exp(Double(x[k]) - lse) - target))
            }
        }
        return total / Double(n)
    }
}
