import CNNAVX512
import CNNCore

/// What a recurrent layer's forward keeps for backward, carved from its saved state
/// (`SavedState`) for a batch of `n`, in this order: the time-major input, each layer's output
/// (and, with dropout, its dropped-out copy and mask), per layer and direction the gates, the
/// cell's planes and the initial states.
struct RecurrentSaved {
    let input: UnsafeMutablePointer<Float>
    let outputs: [UnsafeMutablePointer<Float>], dropped: [UnsafeMutablePointer<Float>]
    let masks: [UnsafeMutablePointer<Float>]
    let gates: [UnsafeMutablePointer<Float>], aux: [UnsafeMutablePointer<Float>]
    let initial: [UnsafeMutablePointer<Float>]
    /// The batch and memory it was carved for.
    let batch: Int, base: UnsafeMutableRawPointer?
    /// Floats the buffers span (what `floats(_:batch:)` must declare).
    let floats: Int

    /// Floats of the buffers for a batch of `n` (`Layer.savedStateFloats`).
    static func floats<Cell>(_ l: RecurrentLayer<Cell>, batch n: Int) -> Int {
        let rows = l.steps * n, width = l.directions * l.hidden, units = l.layers * l.directions
        let between = l.dropout > 0 ? l.layers - 1 : 0
        return rows * l.features + rows * width * (l.layers + 2 * between)
            + units * (rows * l.gateWidth + Cell.auxPlanes * rows * l.hidden + l.stateCount * n * l.hidden)
    }

    init<Cell>(_ l: RecurrentLayer<Cell>, batch n: Int, in state: SavedState) {
        let memory = state.floats(count: Self.floats(l, batch: n))
        let rows = l.steps * n, width = l.directions * l.hidden, units = l.layers * l.directions
        let between = l.dropout > 0 ? l.layers - 1 : 0
        var offset = 0
        func take(_ count: Int, _ copies: Int) -> [UnsafeMutablePointer<Float>] {
            (0..<copies).map { _ in
                defer { offset += count }
                return memory + offset
            }
        }
        input = take(rows * l.features, 1)[0]
        outputs = take(rows * width, l.layers)
        dropped = take(rows * width, between)
        masks = take(rows * width, between)
        gates = take(rows * l.gateWidth, units)
        aux = take(Cell.auxPlanes * rows * l.hidden, units)
        initial = take(l.stateCount * n * l.hidden, units)
        floats = offset
        batch = n
        base = state.base
    }
}

/// A recurrent layer's backward scratch for batches of up to `capacity`, which all units share,
/// and its weights packed for the AVX-512 step products: nothing in it outlives a call.
final class RecurrentScratch {
    let capacity: Int
    /// `dGates` is nil where backward writes the gate gradients over the gates
    /// (`RecurrentCell.gradientsOverGates`).
    let dGates: Tensor?, dRecurrent: Tensor?, dOutput: Tensor, dInput: Tensor
    let carry: Tensor, scratch: Tensor
    /// `[states][N, H]`, with sequence lengths: the carry of rows a backward step passes over.
    let held: Tensor?
    /// `[G·H]`: the bias every step's input projection gets (see `RecurrentCell.stepBias`).
    let stepBias: Tensor
    /// Per worker-pool part, `[2][G·H]`: the column sums of its rows' gate gradients (then of
    /// `W_hh`'s product's, where they differ), the biases' gradients.
    let gateSums: Tensor
    /// One unit's weights packed for `PackedMatrix` (AVX-512 only): `W_ihᵀ` for the input
    /// projection, then `W_hhᵀ` for the forward steps (or `[W_ih | W_hh]ᵀ` for fused forward
    /// steps), `W_hh` for the backward steps.
    let packed: Tensor?
    /// `[F_in + H, G·H]` (the largest F_in of the layers): the weights' gradients transposed, as
    /// `RecurrentProducts.WeightGradients` makes them (AVX-512, G·H a multiple of 64).
    let transposedWeights: Tensor?

    init<Cell>(_ l: RecurrentLayer<Cell>, capacity n: Int) {
        capacity = n
        let cell = l.cell
        let rows = l.steps * n, width = l.directions * l.hidden
        dGates = cell.gradientsOverGates ? nil : Tensor(shape: [rows * l.gateWidth])
        dRecurrent = cell.separateRecurrentGradients ? Tensor(shape: [rows * l.gateWidth]) : nil
        dOutput = Tensor(shape: [rows * width])
        dInput = Tensor(shape: [rows * max(l.features, width)])
        carry = Tensor(shape: [l.stateCount * n * l.hidden])
        held = l.lengths == nil ? nil : Tensor(shape: [l.stateCount * n * l.hidden])
        scratch = Tensor(shape: [n * l.gateWidth])
        stepBias = Tensor(shape: [l.gateWidth])
        gateSums = Tensor(shape: [WorkerPool.maxParts * 2 * l.gateWidth])
        let projections = (0..<l.layers).map {
            cell.fusesInputProjection ? l.fusedProduct(inputSize: l.inputSize(layer: $0)).floats
                : PackedMatrix(rows: l.inputSize(layer: $0), columns: l.gateWidth).floats
        }
        let floats = max(l.hiddenProduct.floats, l.gateProduct.floats, projections.max() ?? 0)
        packed = l.kernels.avx512 ? Tensor(shape: [floats]) : nil
        let widest = (0..<l.layers).map { l.inputSize(layer: $0) }.max() ?? 0
        transposedWeights = l.kernels.avx512 && TransposedWeightGradient.supports(m: l.gateWidth)
            ? Tensor(shape: [(widest + l.hidden) * l.gateWidth]) : nil
    }
}
