import CNNAVX512
import CNNCore

extension RecurrentLayer {
    /// The shapes of the step products: `[H, G·H]` (`W_hhᵀ`, forward) and `[G·H, H]` (`W_hh`, backward).
    var hiddenProduct: PackedMatrix { PackedMatrix(rows: hidden, columns: gateWidth) }
    var gateProduct: PackedMatrix { PackedMatrix(rows: gateWidth, columns: hidden) }
    /// `[F_in + H, G·H]`: `[W_ih | W_hh]ᵀ`, a fused forward step's product.
    func fusedProduct(inputSize: Int) -> PackedMatrix { PackedMatrix(rows: inputSize + hidden, columns: gateWidth) }
}

/// The AVX-512 products of a recurrent layer's direction: its weights packed for the step
/// products, the input projection of all steps against packed `W_ih`, and the weights' gradients
/// over all steps (`TransposedWeightGradient`). None depends on the cell, so none is generic over
/// it: the worker pool runs them as concrete types.
enum RecurrentProducts {
    /// Packs `matrix` from W (`[W₁ | W₂]`, W₁ giving its first `rows` rows; with `transposed`,
    /// from Wᵀ), the parts of the pool each on their share of the panels: weights change every
    /// step, and packing them on one thread would keep the other waiting.
    static func pack(_ matrix: PackedMatrix, _ first: UnsafePointer<Float>, rows: Int,
                     then second: UnsafePointer<Float>? = nil, transposed: Bool,
                     into packed: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        pool.forEachRange(matrix.panels, itemSize: matrix.rows * matrix.panel,
                          PackPanels(matrix: matrix, first: first, rows: rows, second: second,
                                     transposed: transposed, packed: packed))
    }

    struct PackPanels: RangeWork {
        let matrix: PackedMatrix, first: UnsafePointer<Float>, rows: Int, second: UnsafePointer<Float>?
        let transposed: Bool, packed: UnsafeMutablePointer<Float>
        func run(_ panels: Range<Int>) {
            // Rows of W are `ld` floats: a block's rows of B when transposed, else B's columns.
            let rest = matrix.rows - rows
            matrix.pack(first, ld: transposed ? rows : matrix.columns, transposed: transposed, into: packed,
                        rowCount: rows, panels: panels)
            if let second {
                matrix.pack(second, ld: transposed ? rest : matrix.columns, transposed: transposed, into: packed,
                            firstRow: rows, panels: panels)
            }
        }
    }

    /// Rows of the input projection: each starts as the step bias and adds `x · W_ihᵀ` against
    /// W_ih packed (K = F_in is short: LSTM-128's 28 features leave sgemm's packing unpaid).
    struct InputProjection: RangeWork {
        let matrix: PackedMatrix, input: UnsafePointer<Float>, packed: UnsafePointer<Float>
        let bias: UnsafePointer<Float>, gates: UnsafeMutablePointer<Float>
        func run(_ r: Range<Int>) {
            let width = matrix.columns
            for row in r { (gates + row * width).update(from: bias, count: width) }
            matrix.multiply(m: r.count, a: input + r.lowerBound * matrix.rows, lda: matrix.rows, packed: packed,
                            c: gates + r.lowerBound * width, ldc: width, accumulate: true)
        }
    }

    /// The weights' gradients for a range of 64-gate panels: `dW_ih += (Xᵀ · dG)ᵀ` and, where
    /// `plain` (`RecurrentCell.recurrentGradientIsPlain`), `dW_hh += (H₋₁ᵀ · dGh)ᵀ` over all steps,
    /// each product made transposed in `scratch` (`[F_in + H, G·H]`, the range's columns) and added
    /// back. One unpacked kernel: OpenBLAS packed dG twice, and its `dGᵀ · X` (N = 28) ran well
    /// below its speed on `dGᵀ · H₋₁`.
    struct WeightGradients: RangeWork {
        let unit: RecurrentUnit, plain: Bool, scratch: UnsafeMutablePointer<Float>
        func run(_ panels: Range<Int>) {
            let u = unit, g = u.gateWidth, f = u.inputSize, hid = u.hidden, n = u.batch, steps = u.steps
            let width = TransposedWeightGradient.width, first = panels.lowerBound * width, m = panels.count * width
            let ch = scratch + f * g
            TransposedWeightGradient.multiply(k: steps * n, a: u.dGates(0) + first, lda: g, m: m, b: u.input,
                                              ldb: f, n: f, c: scratch + first, ldc: g, accumulate: false)
            addTransposed(scratch, ldc: g, rows: first..<first + m, width: f, into: u.grads[0])
            guard plain else { return }
            // As `RecurrentUnit.addStateProduct`: the steps whose h₋₁ is a stored output, then a
            // learned initial state.
            var started = false
            if steps > 1 {
                let (t, source) = u.reverse ? (0, 1) : (1, 0)
                TransposedWeightGradient.multiply(k: (steps - 1) * n, a: u.dRecurrent(t) + first, lda: g, m: m,
                                                  b: u.h(source), ldb: u.outputStride, n: hid, c: ch + first, ldc: g,
                                                  accumulate: false)
                started = true
            }
            if u.learnedInitialState {
                let t0 = u.reverse ? steps - 1 : 0
                TransposedWeightGradient.multiply(k: n, a: u.dRecurrent(t0) + first, lda: g, m: m, b: u.initial,
                                                  ldb: hid, n: hid, c: ch + first, ldc: g, accumulate: started)
                started = true
            }
            if started { addTransposed(ch, ldc: g, rows: first..<first + m, width: hid, into: u.weightHHGrad) }
        }
    }

    /// `dW[i, j] += c[j, i]` (rows of c `ldc` floats apart) for rows `i` in `rows` of a `[·, width]`
    /// gradient, sixteen rows of dW at a time: each row of c gives them one contiguous run. Down a
    /// column of c instead, every load was a new line `ldc` floats on (2 KiB for LSTM-128), and
    /// lines that far apart share a few sets of L1, so they evicted each other.
    static func addTransposed(_ c: UnsafePointer<Float>, ldc: Int, rows: Range<Int>, width: Int,
                              into dW: UnsafeMutablePointer<Float>) {
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: 16) {
            let count = min(16, rows.upperBound - i0)
            for j in 0..<width {
                let run = c + j * ldc + i0, column = dW + i0 * width + j
                for l in 0..<count { column[l * width] += run[l] }
            }
        }
    }
}
