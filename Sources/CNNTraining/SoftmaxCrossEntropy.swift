import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Softmax cross-entropy on raw logits with optional label smoothing, class weights and an
/// ignored label, as PyTorch `nn.CrossEntropyLoss(weight=w, ignore_index=i, label_smoothing=ε,
/// reduction="mean")`:
///
///     L_i = (1 − ε)·w_y·(lse(x_i) − x_iy) + (ε/C)·Σ_k w_k·(lse(x_i) − x_ik)
///     L   = Σ_i L_i / Σ_i w_{y_i}            (rows whose label is the ignored one left out)
///     ∂L/∂x_ij = [(1 − ε)·w_y·(p_ij − [j = y]) + (ε/C)·(p_ij·Σ_k w_k − w_j)] / Σ_i w_{y_i}
///     lse(x) = m + log Σ_k e^(x_k − m),  p = softmax(x)
///
/// with `m = max_k x_k`, so no `exp` overflows however large the logits (Szegedy et al. 2016,
/// "Rethinking the Inception Architecture", §7, for the smoothing). Without weights w = 1 and
/// the divisor is the number of rows. A batch whose every row is ignored has loss 0 and no
/// gradient (PyTorch gives NaN). Per-row work is in Double: the loss is reported as Double and a
/// Float `log Σ exp` loses digits for confident predictions, where the loss is tiny.
public enum SoftmaxCrossEntropy {
    /// The mean loss of the batch (not multiplied by `weight`). When `gradient` is given,
    /// `weight·∂L/∂logits` is ADDED to it, so several losses can accumulate into one tensor.
    ///
    /// - Parameters:
    ///   - logits: `n·C` values, one row of `C` per label (`[n, C]`, or `[N, T, C]` for `N·T` labels).
    ///   - labels: `n` class indices in `0..<C`, or `ignoreIndex`. Callers check labels against
    ///     the model's output count once before training (a mismatch is a configuration error
    ///     there); here a label out of range is a programming error and traps.
    ///   - smoothing: ε in `0...1`.
    ///   - classWeights: `C` non-negative weights, or nil for 1 each.
    public static func evaluate(logits: Tensor, labels: UnsafeBufferPointer<Int32>,
                                smoothing: Float = 0, classWeights: [Float]? = nil, ignoreIndex: Int32? = nil,
                                gradient: Tensor? = nil, weight: Float = 1) -> Double {
        let (n, classes) = LossArguments.check(logits: logits, labels: labels, smoothing: smoothing,
                                                   gradient: gradient)
        precondition(classWeights.map { $0.count == classes } ?? true, "class weights for \(classes) classes")
        let w = classWeights.map { $0.map(Double.init) } ?? [Double](repeating: 1, count: classes)
        let weightSum = w.reduce(0, +)
        var divisor = 0.0
        for i in 0..<n where labels[i] != ignoreIndex {
            let label = Int(labels[i])
            precondition(label >= 0 && label < classes, "label \(label) not in 0..<\(classes)")
            divisor += w[label]
        }
        guard divisor > 0 else { return 0 }
        let epsilon = Double(smoothing), onHot = 1 - epsilon, offHot = epsilon / Double(classes)
        let scale = Double(weight) / divisor
        var total = 0.0
        for i in 0..<n where labels[i] != ignoreIndex {
            let x = UnsafePointer(logits.data + i * classes)
            let label = Int(labels[i])
            var m = Double(x[0])
            for k in 1..<max(classes, 1) { m = max(m, Double(x[k])) }
            var sum = 0.0, weightedX = 0.0
            for k in 0..<classes {
                let v = Double(x[k])
                sum += exp(v - m)
                weightedX += w[k] * v
            }
            let lse = m + log(sum)
            total += onHot * w[label] * (lse - Double(x[label])) + offHot * (weightSum * lse - weightedX)
            guard let gradient else { continue }
            let g = gradient.data + i * classes
            for k in 0..<classes {
                let p = exp(Double(x[k]) - lse)
                let hot = onHot * w[label] * (p - (k == label ? 1 : 0)), smooth = offHot * (p * weightSum - w[k])
                g[k] += Float(scale * (hot + smooth))
            }
        }
        return total / divisor
    }
}
