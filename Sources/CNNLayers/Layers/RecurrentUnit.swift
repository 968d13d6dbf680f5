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
    /// (`RecurrentLayer.gradientsOverGates`).
    let dGates: Tensor?, dRecurrent: Tensor?, dOutput: Tensor, dInput: Tensor
    let carry: Tensor, scratch: Tensor
    /// `[G·H]`: the bias every step's input projection gets (see `RecurrentLayer.stepBias`).
    let stepBias: Tensor
    /// Per worker-pool part, `[2][G·H]`: the column sums of its rows' gate gradients (then of
    /// `W_hh`'s product's, where they differ), the biases' gradients.
    let gateSums: Tensor
    /// One unit's weights packed for `PackedMatrix` (AVX-512 only): `W_ihᵀ` for the input
    /// projection, then `W_hhᵀ` for the forward steps (or `[W_ih | W_hh]ᵀ` for fused forward
    /// steps), `W_hh` for the backward steps.
    let packed: Tensor?
    /// `[F_in + H, G·H]` (the largest F_in of the layers): the weights' gradients transposed, as
    /// `RecurrentLayer.WeightGradients` makes them (AVX-512, G·H a multiple of 64).
    let transposedWeights: Tensor?

    init(_ l: RecurrentLayer, capacity n: Int) {
        capacity = n
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
        aux = make(l.auxPlanes * rows * l.hidden, units)
        initial = make(l.stateCount * n * l.hidden, units)
        dGates = l.gradientsOverGates ? nil : Tensor(shape: [rows * l.gateWidth])
        dRecurrent = l.separateRecurrentGradients ? Tensor(shape: [rows * l.gateWidth]) : nil
        dOutput = Tensor(shape: [rows * width])
        dInput = Tensor(shape: [rows * max(l.features, width)])
        carry = Tensor(shape: [l.stateCount * n * l.hidden])
        scratch = Tensor(shape: [n * l.gateWidth])
        stepBias = Tensor(shape: [l.gateWidth])
        gateSums = Tensor(shape: [WorkerPool.maxParts * 2 * l.gateWidth])
        let projections = (0..<l.layers).map {
            l.fusesInputProjection ? l.fusedProduct(inputSize: l.inputSize(layer: $0)).floats
                : PackedMatrix(rows: l.inputSize(layer: $0), columns: l.gateWidth).floats
        }
        let floats = max(l.hiddenProduct.floats, l.gateProduct.floats, projections.max() ?? 0)
        packed = CPUFeatures.avx512Kernels ? Tensor(shape: [floats]) : nil
        let widest = (0..<l.layers).map { l.inputSize(layer: $0) }.max() ?? 0
        transposedWeights = CPUFeatures.avx512Kernels && TransposedWeightGradient.supports(m: l.gateWidth)
            ? Tensor(shape: [(widest + l.hidden) * l.gateWidth]) : nil
    }
}

/// One direction of one layer during one call: its parameters and buffers, and the time-major
/// addressing of step t (row `t·N + b`). A step works on `rows` rows: the whole batch, or the
/// share of one part of the worker pool (see `rows(_:)`).
struct RecurrentUnit {
    let steps: Int, batch: Int, hidden: Int, gateWidth: Int, reverse: Bool, learnedInitialState: Bool
    /// `weight_ih, weight_hh, bias_ih, bias_hh`, the cell's own, the initial states.
    let values: [UnsafeMutablePointer<Float>], grads: [UnsafeMutablePointer<Float>]
    let input: UnsafeMutablePointer<Float>, inputSize: Int
    /// This direction's columns of the layer's `[T, N, H·dirs]` output and of its gradient.
    private(set) var output: UnsafeMutablePointer<Float>
    let outputStride: Int
    private(set) var dOutput: UnsafeMutablePointer<Float>
    /// Only the final state has an output gradient (the top layer without `return_sequences`):
    /// backward starts it in the h carry, and every step reads the same zero rows as its own.
    let finalGradientOnly: Bool
    private(set) var gateBase: UnsafeMutablePointer<Float>, auxBase: UnsafeMutablePointer<Float>
    /// `[states][N, H]`: h₋₁ (and c₋₁) of the first step read.
    private(set) var initial: UnsafeMutablePointer<Float>
    private(set) var dGateBase: UnsafeMutablePointer<Float>, dRecurrentBase: UnsafeMutablePointer<Float>
    /// `[states][N, H]`: the gradient reaching the state before the step being processed.
    private(set) var carry: UnsafeMutablePointer<Float>
    /// `[N, G·H]`: the step's recurrent product.
    private(set) var scratch: UnsafeMutablePointer<Float>
    /// `[G·H]`: the bias of every step's pre-activations (see `RecurrentLayer.stepBias`).
    let stepBias: UnsafePointer<Float>
    /// `[2][G·H]`: where backward steps add the column sums of their gate gradients (this part's
    /// share of `RecurrentStorage.gateSums`).
    var gateSums: UnsafeMutablePointer<Float>
    /// The weights packed for the step products of the pass under way (see `RecurrentStorage.packed`).
    let packed: UnsafeMutablePointer<Float>?
    /// Forward steps make their whole pre-activations in one packed product (the cell's
    /// `RecurrentLayer.fusesInputProjection`, where `packed` is set).
    let fusedProjection: Bool
    /// Batch row of this unit's first row, for the input's rows (`rows(_:)` moves the others).
    private(set) var firstRow = 0
    /// Rows of each step this unit works on, when only a part of the batch.
    private(set) var partRows: Int? = nil
    var rows: Int { partRows ?? batch }

    /// The same unit restricted to batch rows `r` of every step: the row-addressed bases move
    /// by `r.lowerBound` rows; the time stride stays the whole batch.
    func rows(_ r: Range<Int>) -> RecurrentUnit {
        var u = self
        let b = r.lowerBound
        u.partRows = r.count
        u.firstRow = b
        u.output += b * outputStride
        u.dOutput += b * outputStride
        u.gateBase += b * gateWidth
        u.dGateBase += b * gateWidth
        u.dRecurrentBase += b * gateWidth
        u.scratch += b * gateWidth
        u.auxBase += b * hidden
        u.initial += b * hidden
        u.carry += b * hidden
        return u
    }

    var weightHH: UnsafeMutablePointer<Float> { values[1] }
    var biasHH: UnsafeMutablePointer<Float> { values[3] }
    var weightHHGrad: UnsafeMutablePointer<Float> { grads[1] }
    var biasHHGrad: UnsafeMutablePointer<Float> { grads[3] }
    func cellValue(_ i: Int) -> UnsafeMutablePointer<Float> { values[4 + i] }
    func cellGrad(_ i: Int) -> UnsafeMutablePointer<Float> { grads[4 + i] }
    var dhCarry: UnsafeMutablePointer<Float> { carry }
    var dcCarry: UnsafeMutablePointer<Float> { carry + batch * hidden }

    func gates(_ t: Int) -> UnsafeMutablePointer<Float> { gateBase + t * batch * gateWidth }
    func dGates(_ t: Int) -> UnsafeMutablePointer<Float> { dGateBase + t * batch * gateWidth }
    func dRecurrent(_ t: Int) -> UnsafeMutablePointer<Float> { dRecurrentBase + t * batch * gateWidth }
    func aux(_ plane: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
        auxBase + (plane * steps + t) * batch * hidden
    }
    /// h of step t and the gradient arriving there from above (rows `outputStride` apart).
    func h(_ t: Int) -> UnsafeMutablePointer<Float> { output + t * batch * outputStride }
    func dh(_ t: Int) -> UnsafeMutablePointer<Float> { dOutput + (finalGradientOnly ? 0 : t * batch * outputStride) }
    /// The step read before t; nil for this direction's first step.
    func previous(_ t: Int) -> Int? {
        let p = reverse ? t + 1 : t - 1
        return p >= 0 && p < steps ? p : nil
    }
    /// h₋₁ of step t and its row stride.
    func hPrev(_ t: Int) -> (UnsafeMutablePointer<Float>, Int) {
        previous(t).map { (h($0), outputStride) } ?? (initial, hidden)
    }
    /// c₋₁ of step t, for cells whose aux plane 0 holds c.
    func cPrev(_ t: Int) -> UnsafeMutablePointer<Float> {
        previous(t).map { aux(0, $0) } ?? initial + batch * hidden
    }

    /// This unit's rows of step t's input (`inputSize` floats apart).
    func inputRows(_ t: Int) -> UnsafePointer<Float> { UnsafePointer(input + (t * batch + firstRow) * inputSize) }

    /// `gates(t) = stepBias + x(t)·W_ihᵀ + h₋₁·W_hhᵀ` on this unit's rows: one packed product over
    /// `[x(t), h₋₁]` when fused, else `h₋₁·W_hhᵀ` added to the input projection already there.
    func preActivations(_ t: Int) {
        let (hp, ld) = hPrev(t)
        guard fusedProjection, let packed else { return hiddenProduct(hp, lda: ld, into: gates(t), accumulate: true) }
        let x = inputRows(t)
        PackedMatrix(rows: inputSize + hidden, columns: gateWidth)
            .multiply(m: rows, .init(x, stride: inputSize, columns: inputSize), .init(hp, stride: ld, columns: hidden),
                      bias: stepBias, packed: packed, c: gates(t), ldc: gateWidth, accumulate: false)
    }

    /// `c[rows, G·H] = a[rows, H] · W_hhᵀ` (`accumulate`: `+=`), a forward step's recurrent
    /// product (rows `lda` apart).
    func hiddenProduct(_ a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>,
                       accumulate: Bool = false) {
        if let packed {
            PackedMatrix(rows: hidden, columns: gateWidth)
                .multiply(m: rows, a: a, lda: lda, packed: packed, c: c, ldc: gateWidth, accumulate: accumulate)
        } else {
            gemm(transB: true, m: rows, n: gateWidth, k: hidden, a: a, lda: lda, b: weightHH,
                 beta: accumulate ? 1 : 0, c: c)
        }
    }

    /// `c[rows, H] = dG[rows, G·H] · W_hh` (`accumulate`: `+=`), a backward step's `dh₋₁`.
    func gateProduct(_ dG: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let packed {
            PackedMatrix(rows: gateWidth, columns: hidden)
                .multiply(m: rows, a: dG, lda: gateWidth, packed: packed, c: c, ldc: hidden, accumulate: accumulate)
        } else {
            gemm(m: rows, n: hidden, k: gateWidth, a: dG, b: weightHH, beta: accumulate ? 1 : 0, c: c)
        }
    }

    /// `dW[rows, H] += Σ_t dG(t)ᵀ · h₋₁(t)` for gate-gradient rows `gateWidth` apart: one sgemm
    /// over the T − 1 steps whose h₋₁ is a stored output, one more for a learned initial state.
    func addStateProduct(_ dG: UnsafeMutablePointer<Float>, rows: Int,
                         into dW: UnsafeMutablePointer<Float>) {
        let n = batch, ld = gateWidth
        if steps > 1 {
            let (first, source) = reverse ? (0, 1) : (1, 0)
            gemmAcrossParts(transA: true, m: rows, n: hidden, k: (steps - 1) * n, a: dG + first * n * ld, lda: ld,
                 b: h(source), ldb: outputStride, beta: 1, c: dW)
        }
        if learnedInitialState {
            let t0 = reverse ? steps - 1 : 0
            gemmAcrossParts(transA: true, m: rows, n: hidden, k: n, a: dG + t0 * n * ld, lda: ld, b: initial,
                 beta: 1, c: dW)
        }
    }
}
