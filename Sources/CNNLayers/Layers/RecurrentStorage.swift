import CNNAVX512
import CNNCore

/// A recurrent layer's buffers for batches of up to `capacity`: the time-major input, each
/// layer's output (and, with dropout, its dropped-out copy and mask), per layer and direction the
/// gates, the cell's planes and the initial states, and the backward scratch all units share.
final class RecurrentStorage {
    let capacity: Int
    let input: Tensor, outputs: [Tensor], dropped: [Tensor], masks: [Tensor]
    let gates: [Tensor], aux: [Tensor], initial: [Tensor]
    /// `dGates` is nil where backward writes the gate gradients over the gates
    /// (`RecurrentCelcell.gradientsOverGates`).
    let dGates: Tensor?, dRecurrent: Tensor?, dOutput: Tensor, dInput: Tensor
    let carry: Tensor, scratch: Tensor
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

    /// Floats of the buffers forward fills and backward reads (`input` through `initial`) for a
    /// batch of `n`; the rest is backward's scratch.
    static func savedFloats<Cell>(_ l: RecurrentLayer<Cell>, batch n: Int) -> Int {
        let rows = l.steps * n, width = l.directions * l.hidden, units = l.layers * l.directions
        let between = l.dropout > 0 ? l.layers - 1 : 0
        return rows * l.features + rows * width * (l.layers + 2 * between)
            + units * (rows * l.gateWidth + Cell.auxPlanes * rows * l.hidden + l.stateCount * n * l.hidden)
    }

    /// Floats of `input` through `initial`, as allocated (what `savedFloats` must count).
    var savedFloatsAllocated: Int {
        ([input] + outputs + dropped + masks + gates + aux + initial).reduce(0) { $0 + $1.count }
    }

    init<Cell>(_ l: RecurrentLayer<Cell>, capacity n: Int) {
        capacity = n
        let cell = l.cell
        let rows = l.steps * n, width = l.directions * l.hidden, units = l.layers * l.directions
        let between = l.dropout > 0 ? l.layers - 1 : 0
        func make(_ count: Int, _ copies: Int) -> [Tensor] {
            (0..<copies).map { _ in Tensor(shape: [count]) }
        }
        input = Tensor(shape: [rows * l.features])
        outputs = make(rows * width, l.layers)
        dropped = make(rows * width, between)
        masks = make(rows * width, between)
        gates = make(rows * l.gateWidth, units)
        aux = make(Cell.auxPlanes * rows * l.hidden, units)
        initial = make(l.stateCount * n * l.hidden, units)
        dGates = cell.gradientsOverGates ? nil : Tensor(shape: [rows * l.gateWidth])
        dRecurrent = cell.separateRecurrentGradients ? Tensor(shape: [rows * l.gateWidth]) : nil
        dOutput = Tensor(shape: [rows * width])
        dInput = Tensor(shape: [rows * max(l.features, width)])
        carry = Tensor(shape: [l.stateCount * n * l.hidden])
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
