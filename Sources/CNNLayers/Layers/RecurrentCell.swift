import CNNCore

/// The gate math of one recurrent cell: what a `RecurrentLayer` needs to know of GRU, LSTM or
/// the Elman RNN. The layer owns everything else (stacking, directions, the input projection,
/// BPTT over the steps, the worker-pool parts, the weight gradients over all steps); a cell
/// fills one step's states from its pre-activations and, going back, one step's gate gradients.
///
/// Every cell has PyTorch's four parameters per layer and direction, `weight_ih` `[G·H, F_in]`,
/// `weight_hh` `[G·H, H]`, `bias_ih` and `bias_hh` `[G·H]`, gates in `gateNames` order; a cell
/// adds its own after them (`parameterSpecs(suffix:hidden:)`), found at `RecurrentUnit.cellValue`.
///
/// The capabilities say how the layer may drive the cell; their defaults suit a cell whose
/// pre-activations are `b_ih + x·W_ihᵀ + (h₋₁·W_hhᵀ + b_hh)` with `b_hh` added by the cell,
/// whose `W_hh` gradient is `Σ_t dG(t)ᵀ · h₋₁(t)`, and whose backward step writes only the rows
/// it is given.
public protocol RecurrentCell: Sendable {
    /// The cell's own config keys, read from the same object as `RecurrentConfig`'s.
    associatedtype Options: Decodable & Sendable

    /// The layer's config `type`.
    static var type: String { get }
    /// The gates in the row order of the weights (G = their count).
    static var gateNames: [String] { get }
    /// 1 (h) or 2 (h, c): the states a step carries.
    static var stateCount: Int { get }
    /// `[T, N, H]` planes a step keeps per layer and direction for backward (`RecurrentUnit.aux`).
    static var auxPlanes: Int { get }
    /// Whether `b_hh` only ever adds to the pre-activations `b_ih` starts, so that one bias
    /// (`bias: "single"`, Keras') is the same model.
    static var recurrentBiasFolds: Bool { get }

    /// Reads the cell's options; `context` reports their errors.
    init(_ options: Options, hidden: Int, context: inout LayerBuildContext) throws

    /// The cell's parameters after the four shared ones of a layer and direction.
    func parameterSpecs(suffix: String, hidden: Int) -> [ParameterSpec]
    /// A phrase for the layer's `details` (gate convention, peepholes), or nil.
    func details(hidden: Int) -> String?

    /// Writes the bias every step's input projection starts from, once per pass: `b_ih`. A cell
    /// whose other constant terms simply add to the same pre-activations folds them in too.
    func stepBias(_ u: RecurrentUnit, into bias: UnsafeMutablePointer<Float>)
    /// Fills `u.h(t)` and the cell's per-step planes from the input projection in `u.gates(t)`,
    /// which it replaces with the gate activations backward reads.
    func forwardStep(_ u: RecurrentUnit, t: Int)
    /// Writes step t's gate gradients to `u.dGates(t)` (and `u.dRecurrent(t)`) from `u.dh(t)` plus
    /// the carry, and leaves in the carry the gradient of the previous state; with `propagate`
    /// false it may skip the parts through `W_hh` (the layer clears the carry then).
    func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool)
    /// `dW_hh += Σ_t dGh(t)ᵀ · h₋₁(t)` over all steps, where `recurrentGradientIsPlain` is false or
    /// the layer has no `TransposedWeightGradient` for it.
    func addRecurrentWeightGradients(_ u: RecurrentUnit)

    /// Whether a forward step's pre-activations are `stepBias + x·W_ihᵀ + h₋₁·W_hhᵀ` and nothing
    /// else, so that with packed products one product per step over `[x, h₋₁]` makes them
    /// (`RecurrentUnit.preActivations`): the gates are written once, from registers, where a
    /// projection of all steps up front leaves `T·N·G·H` floats (3.5 MiB for LSTM-128) to be read
    /// back from outer caches, one step at a time.
    var fusesInputProjection: Bool { get }
    /// Whether `dW_hh` is `Σ_t dGh(t)ᵀ · h₋₁(t)` (`addRecurrentWeightGradients` is the default), so
    /// that `RecurrentProducts.WeightGradients` may make it.
    var recurrentGradientIsPlain: Bool { get }
    /// Whether the gate gradients of the `W_hh` product differ from those of `W_ih x` (GRU's
    /// `r ⊙ …`): backward keeps them apart in `u.dRecurrent`.
    var separateRecurrentGradients: Bool { get }
    /// Whether a backward step adds into gradients all rows share (LSTM peepholes): then the
    /// steps cannot split the batch.
    var stepsShareGradients: Bool { get }
    /// Whether backward steps write the gate gradients over the gates they read (each vector of
    /// gates loaded before its gradients are stored): nothing reads a step's gates after its
    /// backward step, and a separate dG's lines came in from outer caches only to be overwritten.
    var gradientsOverGates: Bool { get }
    /// Whether a backward step adds the column sums of its gate gradients into `u.gateSums`
    /// itself, while they are in registers.
    var stepsSumGateGradients: Bool { get }
}

extension RecurrentCell {
    public func parameterSpecs(suffix: String, hidden: Int) -> [ParameterSpec] { [] }
    public func details(hidden: Int) -> String? { nil }

    public func stepBias(_ u: RecurrentUnit, into bias: UnsafeMutablePointer<Float>) {
        bias.update(from: u.values[2], count: u.gateWidth)
    }

    public func addRecurrentWeightGradients(_ u: RecurrentUnit) {
        u.addStateProduct(u.dRecurrent(0), rows: u.gateWidth, into: u.weightHHGrad)
    }

    public var fusesInputProjection: Bool { false }
    public var recurrentGradientIsPlain: Bool { true }
    public var separateRecurrentGradients: Bool { false }
    public var stepsShareGradients: Bool { false }
    public var gradientsOverGates: Bool { false }
    public var stepsSumGateGradients: Bool { false }
}
