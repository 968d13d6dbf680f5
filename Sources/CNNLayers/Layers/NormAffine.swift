import CNNCore

/// A norm layer's optional elementwise affine map `y = x̂·γ + β`: PyTorch's `weight` γ
/// (initialised to 1) and `bias` β (to 0), both of one shape — the channels for BatchNorm and
/// GroupNorm, the normalized shape for LayerNorm. Switched off, the layer has no parameters for
/// it and the tensors stay nil, which the kernels read as γ = 1, β = 0.
///
/// A class the layer holds in a `let`, bound once and then only read: held as a struct in a
/// `var`, swift-frontend 6.3.1 crashed (signal 11 in IRGen) compiling BatchNorm's backward in
/// release builds.
final class NormAffine {
    /// The shape of γ and β, or nil when the map is off.
    let shape: Shape?
    private(set) var weight: Tensor?, bias: Tensor?, weightGrad: Tensor?, biasGrad: Tensor?

    /// On unless `enabled` is false (PyTorch's default).
    init(_ shape: Shape, enabled: Bool?) {
        self.shape = enabled ?? true ? shape : nil
    }

    /// `weight` then `bias`, or none when off.
    var specs: [ParameterSpec] {
        guard let shape else { return [] }
        return [ParameterSpec("weight", shape, role: .normScale, initializer: .constant(1)),
                ParameterSpec("bias", shape, role: .normShift, initializer: .constant(0))]
    }

    /// Takes γ, β and their gradients from the front of the layer's parameters (in `specs`
    /// order) and returns how many it took, 2 or 0.
    @discardableResult
    func bind(parameters: [Tensor], gradients: [Tensor]) -> Int {
        guard shape != nil else { return 0 }
        weight = parameters[0]; bias = parameters[1]
        weightGrad = gradients[0]; biasGrad = gradients[1]
        return 2
    }
}
