import Foundation

/// Gradient clipping over the gradient arena, as `torch.nn.utils.clip_grad_norm_` and
/// `clip_grad_value_`
/// (https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html).
public enum GradientClipping {
    /// Scales `g` by `maxNorm / (‖g‖₂ + 1e-6)` when that is below 1 (PyTorch's clip
    /// coefficient, the 1e-6 guarding against a zero norm) and returns ‖g‖₂ before clipping,
    /// summed in Double. A non-finite norm leaves `g` unchanged (PyTorch would fill it with
    /// NaN); the caller sees the norm and can skip the step.
    @discardableResult
    public static func clipGlobalNorm(_ g: UnsafeMutablePointer<Float>, count: Int,
                                      maxNorm: Float) -> Float {
        let norm = sumOfSquares(g, count: count).squareRoot()
        let coefficient = Double(maxNorm) / (norm + 1e-6)
        if norm.isFinite && coefficient < 1 {
            let c = Float(coefficient)
            for i in 0..<count { g[i] *= c }
        }
        return Float(norm)
    }

    /// `Σ g[i]²` in Double.
    static func sumOfSquares(_ g: UnsafePointer<Float>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count {
            let x = Double(g[i])
            sum += x * x
        }
        return sum
    }

    /// Clamps every gradient to [−limit, limit].
    public static func clipValue(_ g: UnsafeMutablePointer<Float>, count: Int, limit: Float) {
        for i in 0..<count { g[i] = min(max(g[i], -limit), limit) }
    }
}
