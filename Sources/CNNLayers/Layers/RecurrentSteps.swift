import CNNAVX512
import CNNCore

/// One layer and direction over its steps: the input projection, the cell's steps forward, BPTT
/// back over them (truncated at `bptt` blocks), the biases' and initial states' gradients, and
/// how the steps share the worker pool.
extension RecurrentLayer {
    /// The time steps are sequential but the batch rows of a step are independent: the steps run
    /// on the worker pool's parts, each on its share of the rows with a one-thread BLAS (no
    /// hand-off per step), after every step's input projection, its rows split the same way.
    func forwardUnit(_ u: RecurrentUnit) {
        let n = u.batch, g = gateWidth, p = u.values
        for s in 0..<stateCount {
            for b in 0..<n {
                let row = u.initial + (s * n + b) * hidden
                if learnedInitialState {
                    row.update(from: p[p.count - stateCount + s], count: hidden)
                } else {
                    row.update(repeating: 0, count: hidden)
                }
            }
        }
        // The input projections of all steps: [T·N, F_in] · W_ihᵀ, plus the step bias; or, fused,
        // each step's own (see `RecurrentUnit.preActivations`).
        guard let bias = storage?.stepBias.data else { preconditionFailure("\(name): no storage") }
        let gates = u.gates(0)
        cell.stepBias(u, into: bias)
        if let packed = u.packed, u.fusedProjection {
            RecurrentProducts.pack(fusedProduct(inputSize: u.inputSize), p[0], rows: u.inputSize,
                                   then: u.weightHH, transposed: true, into: packed, pool: u.pool)
        } else if let packed = u.packed {
            let projection = PackedMatrix(rows: u.inputSize, columns: g)
            RecurrentProducts.pack(projection, p[0], rows: u.inputSize, transposed: true, into: packed,
                                   pool: u.pool)
            let work = RecurrentProducts.InputProjection(matrix: projection, input: u.input, packed: packed,
                                                         bias: bias, gates: gates)
            u.pool.forEachRange(steps * n, itemSize: g * u.inputSize, work)
        } else {
            gemmAcrossParts(transB: true, m: steps * n, n: g, k: u.inputSize, a: u.input, b: p[0], c: gates,
                            pool: u.pool)
            for r in 0..<steps * n {
                let row = gates + r * g
                for j in 0..<g { row[j] += bias[j] }
            }
        }
        if let packed = u.packed, !u.fusedProjection {
            RecurrentProducts.pack(hiddenProduct, u.weightHH, rows: hidden, transposed: true, into: packed,
                                   pool: u.pool)
        }
        let parts = min(u.pool.parts, n / RecurrentUnit.minimumPartRows)
        if parts > 1 {
            u.pool.run(ForwardSteps(layer: self, unit: u, parts: parts))
        } else {
            u.pool.withWideBLAS { forwardSteps(u) }
        }
    }

    /// Every step, in order, on the unit's rows.
    private func forwardSteps(_ u: RecurrentUnit) {
        for s in 0..<steps {
            let t = u.reverse ? steps - 1 - s : s
            cell.forwardStep(u, t: t)
            if u.hasPadding(step: t) { carryThroughPadding(u, t: t) }
        }
    }

    /// A row past its sample's length keeps the state it had (PyTorch's packed sequences): the
    /// forward direction's final state is the one at the last real token, and the backward
    /// direction starts from its initial state there. The step ran on the row anyway (the rows
    /// of a step are one product); its state is replaced by the previous one.
    private func carryThroughPadding(_ u: RecurrentUnit, t: Int) {
        let (hp, ld) = u.hPrev(t), h = u.h(t)
        for i in 0..<u.rows where u.isPadding(row: i, step: t) {
            (h + i * u.outputStride).update(from: hp + i * ld, count: hidden)
            if stateCount == 2 { (u.aux(0, t) + i * hidden).update(from: u.cPrev(t) + i * hidden, count: hidden) }
        }
    }

    /// One unit's steps, the batch rows split between `parts` parts.
    struct ForwardSteps: PartitionedWork {
        let layer: RecurrentLayer, unit: RecurrentUnit, parts: Int
        func run(part: Int) {
            if part < parts { layer.forwardSteps(unit.rows(WorkerPool.share(unit.batch, part: part, of: parts))) }
        }
    }

    /// Backward splits its steps as forward does (unless a step adds into shared gradients), and
    /// the products over all steps split their rows (`gemmAcrossParts`) or their gates
    /// (`RecurrentProducts.WeightGradients`). `finalGradient`: the final state's gradient (rows
    /// `directions·H` apart), where it is the only one (`RecurrentUnit.finalGradientOnly`).
    func backwardUnit(_ u: RecurrentUnit, inputGradient dIn: UnsafeMutablePointer<Float>?,
                      finalGradient: UnsafePointer<Float>?) {
        let n = u.batch, g = gateWidth, p = u.values, dp = u.grads, separate = cell.separateRecurrentGradients
        u.carry.update(repeating: 0, count: stateCount * n * hidden)
        if let finalGradient {
            for b in 0..<n {
                (u.dhCarry + b * hidden).update(from: finalGradient + b * directions * hidden, count: hidden)
            }
        }
        if let packed = u.packed {
            RecurrentProducts.pack(gateProduct, u.weightHH, rows: gateWidth, transposed: false, into: packed,
                                   pool: u.pool)
        }
        let parts = cell.stepsShareGradients ? 1
            : max(1, min(u.pool.parts, n / RecurrentUnit.minimumPartRows))
        guard let sums = storage?.gateSums.data else { preconditionFailure("\(name): no storage") }
        let columns = separate ? 2 * g : g
        sums.update(repeating: 0, count: parts * columns)
        if parts > 1 {
            u.pool.run(BackwardSteps(layer: self, unit: u, parts: parts, columns: columns))
        } else {
            u.pool.withWideBLAS { backwardSteps(u) }
        }
        // db_ih += Σ dG and db_hh += Σ dGh (the same sums where the two coincide), from the parts.
        for part in 0..<parts {
            let s = sums + part * columns, sh = separate ? s + g : s
            for j in 0..<g { dp[2][j] += s[j] }
            for j in 0..<g { u.biasHHGrad[j] += sh[j] }
        }
        if learnedInitialState {
            for s in 0..<stateCount {
                RecurrentKernels.addColumnSums(u.carry + s * n * hidden, rows: n, cols: hidden,
                                               into: dp[dp.count - stateCount + s])
            }
        }
        // dW_ih += dGᵀ · X and dW_hh (the cell's `addRecurrentWeightGradients`) over all steps:
        // with the AVX-512 kernels transposed, each part on its share of the gates; dX += dG · W_ih.
        let dG = u.dGates(0)
        if let scratch = u.packed != nil ? storage?.transposedWeights?.data : nil {
            let panels = g / TransposedWeightGradient.width
            let work = RecurrentProducts.WeightGradients(unit: u, plain: cell.recurrentGradientIsPlain,
                                                         scratch: scratch)
            u.pool.forEachRange(panels, itemSize: steps * n * g, work)
            if !cell.recurrentGradientIsPlain { cell.addRecurrentWeightGradients(u) }
        } else {
            gemmAcrossParts(transA: true, m: g, n: u.inputSize, k: steps * n, a: dG, b: u.input, beta: 1, c: dp[0],
                            pool: u.pool)
            cell.addRecurrentWeightGradients(u)
        }
        if let dIn {
            gemmAcrossParts(m: steps * n, n: u.inputSize, k: g, a: dG, b: p[0], beta: 1, c: dIn, pool: u.pool)
        }
    }

    /// Every step, last first, on the unit's rows; where truncated BPTT cuts, the rows' carry is
    /// cleared. Each step's gate gradients are added into `sums` (then those of `W_hh`'s product
    /// where they differ) while still in cache: the biases' gradients, without a pass over all
    /// steps' gradients after.
    private func backwardSteps(_ u: RecurrentUnit) {
        let sums = u.gateSums, separate = cell.separateRecurrentGradients, sumsInStep = cell.stepsSumGateGradients
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let cut = bptt.map { s > 0 && s % $0 == 0 } ?? false
            let propagate = !cut && (s > 0 || learnedInitialState), t = u.reverse ? steps - 1 - s : s
            let padded = u.hasPadding(step: t)
            if padded { holdCarry(u, t: t, restore: false) }
            cell.backwardStep(u, t: t, propagate: propagate)
            if padded { holdCarry(u, t: t, restore: true) }
            if !sumsInStep { RecurrentKernels.addColumnSums(u.dGates(t), rows: u.rows, cols: gateWidth, into: sums) }
            if separate {
                RecurrentKernels.addColumnSums(u.dRecurrent(t), rows: u.rows, cols: gateWidth, into: sums + gateWidth)
            }
            if !propagate {
                for k in 0..<stateCount {
                    (u.carry + k * u.batch * hidden).update(repeating: 0, count: u.rows * hidden)
                }
            }
        }
    }

    /// Backward through a padded row: its state went through the step unchanged, so the gradient
    /// reaching it passes to the previous state as it is. The step runs on the row with a zero
    /// carry (and, padding's output being zero, a zero output gradient), which makes its gate
    /// gradients and everything they add to zero; the carry held before is put back after.
    private func holdCarry(_ u: RecurrentUnit, t: Int, restore: Bool) {
        guard let held = u.held else { preconditionFailure("\(name): no held carry") }
        for k in 0..<stateCount {
            let carry = u.carry + k * u.batch * hidden, hold = held + k * u.batch * hidden
            for i in 0..<u.rows where u.isPadding(row: i, step: t) {
                if restore {
                    (carry + i * hidden).update(from: hold + i * hidden, count: hidden)
                } else {
                    (hold + i * hidden).update(from: carry + i * hidden, count: hidden)
                    (carry + i * hidden).update(repeating: 0, count: hidden)
                }
            }
        }
    }

    /// One unit's steps back, the batch rows split between `parts` parts, each adding its gate
    /// sums into its own `columns` floats of `RecurrentScratch.gateSums`.
    struct BackwardSteps: PartitionedWork {
        let layer: RecurrentLayer, unit: RecurrentUnit, parts: Int, columns: Int
        func run(part: Int) {
            guard part < parts else { return }
            var u = unit.rows(WorkerPool.share(unit.batch, part: part, of: parts))
            u.gateSums += part * columns
            layer.backwardSteps(u)
        }
    }
}
