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
public enum BinaryCrossEntropy: ElementwiseLoss {
    /// `t ← t·(1 − ε) + ε/2` for the one-hot (or single-output) targets 1 and 0.
    public static func targets(smoothing epsilon: Double, outputs: Int) -> (hot: Double, other: Double) {
        (1 - epsilon / 2, epsilon / 2)
    }

    public static func loss(_ x: Double, _ t: Double) -> Double {
        max(x, 0) - x * t + log1p(exp(-abs(x)))
    }

    public static var gradientFactor: Double { 1 }

    /// `σ(x) − t`, with σ written so that exp only sees non-positive arguments.
    public static func slope(_ x: Double, _ t: Double) -> Double {
        let e = exp(-abs(x))
        return (x >= 0 ? 1 / (1 + e) : e / (1 + e)) - t
    }
}
