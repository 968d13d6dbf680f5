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
public enum MeanSquaredError: ElementwiseLoss {
    /// `(1 − ε)·onehot + ε/C`, or `t·(1 − ε) + ε/2` for a single output.
    public static func targets(smoothing epsilon: Double, outputs: Int) -> (hot: Double, other: Double) {
        let other = outputs == 1 ? epsilon / 2 : epsilon / Double(outputs)
        return (1 - epsilon + other, other)
    }

    public static func loss(_ x: Double, _ t: Double) -> Double { (x - t) * (x - t) }

    public static var gradientFactor: Double { 2 }

    public static func slope(_ x: Double, _ t: Double) -> Double { x - t }
}
