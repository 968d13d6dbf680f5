import CNNAVX512
import CNNCore

/// One direction of one layer during one call: its parameters and buffers, and the time-major
/// addressing of step t (row `t·N + b`). A step works on `rows` rows: the whole batch, or the
/// share of one part of the worker pool (see `rows(_:)`).
public struct RecurrentUnit {
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
    /// `[G·H]`: the bias of every step's pre-activations (see `RecurrentCell.stepBias`).
    let stepBias: UnsafePointer<Float>
    /// `[2][G·H]`: where backward steps add the column sums of their gate gradients (this part's
    /// share of `RecurrentScratch.gateSums`).
    var gateSums: UnsafeMutablePointer<Float>
    /// The weights packed for the step products of the pass under way (see `RecurrentScratch.packed`).
    let packed: UnsafeMutablePointer<Float>?
    /// Forward steps make their whole pre-activations in one packed product (the cell's
    /// `RecurrentCell.fusesInputProjection`, where `packed` is set).
    let fusedProjection: Bool
    /// The executor's worker pool, for the products over all steps and the packing.
    let pool: WorkerPool
    /// `[N]`: each sample's real steps (`SequenceLengths`); nil where every step is real.
    private(set) var lengths: UnsafePointer<Int32>? = nil
    /// The shortest of `lengths`: no row is padding at an earlier step.
    private(set) var shortest = Int.max
    /// `[states][N, H]`: where a backward step holds the carry of the rows it passes over as padding.
    private(set) var held: UnsafeMutablePointer<Float>? = nil
    /// Batch row of this unit's first row, for the input's rows (`rows(_:)` moves the others).
    private(set) var firstRow = 0
    /// Rows of each step this unit works on, when only a part of the batch.
    private(set) var partRows: Int? = nil
    var rows: Int { partRows ?? batch }

    /// Fewer rows per part make the step products too thin to pay for a second thread.
    static let minimumPartRows = 8

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
        u.held = held.map { $0 + b * hidden }
        return u
    }

    /// The unit with per-sample lengths (nil for none) and the backward scratch that holds padded
    /// rows' carry.
    func padded(_ lengths: UnsafePointer<Int32>?, held: UnsafeMutablePointer<Float>?) -> RecurrentUnit {
        var u = self
        u.lengths = lengths
        u.held = held
        u.shortest = lengths.map { l in (0..<batch).map { Int(l[$0]) }.min() ?? 0 } ?? Int.max
        return u
    }

    /// Whether this unit's row i is past its sample's length at step t.
    func isPadding(row i: Int, step t: Int) -> Bool {
        guard let lengths else { return false }
        return t >= Int(lengths[firstRow + i])
    }

    /// Whether any row is padding at step t.
    func hasPadding(step t: Int) -> Bool { t >= shortest }

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
                 b: h(source), ldb: outputStride, beta: 1, c: dW, pool: pool)
        }
        if learnedInitialState {
            let t0 = reverse ? steps - 1 : 0
            gemmAcrossParts(transA: true, m: rows, n: hidden, k: n, a: dG + t0 * n * ld, lda: ld, b: initial,
                 beta: 1, c: dW, pool: pool)
        }
    }
}
