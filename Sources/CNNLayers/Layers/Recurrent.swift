import CNNAVX512
import CNNCore

/// What GRU, LSTM and SimpleRNN share; their files hold only the gate math of one step.
///
/// `x: [N, T, F] → y: [N, H·dirs]`, the last layer's final state of each direction in PyTorch's
/// `h_n` order (forward, then backward, whose final state is the one after reading t = 0), or
/// with `return_sequences` `y: [N, T, H·dirs]` (PyTorch's `output`). `layers` stacks layers, each
/// reading the previous one's `[T, H·dirs]` output, with inverted `dropout` on it in training
/// (PyTorch's `dropout` argument, masks from the context's RNG; an error with one layer).
///
/// Parameters per layer k and direction, PyTorch's names, layouts and U(±1/√H) init:
/// `weight_ih_l{k}` `[G·H, F_in]`, `weight_hh_l{k}` `[G·H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}`
/// `[G·H]` (`_reverse` for the backward direction); then the cell's own; then with
/// `initial_state: learned` `h0_l{k}` (and `c0_l{k}`) `[H]`, zero at first. MACs: parameters × T
/// (torchinfo's rule).
///
/// Kernels (cuDNN's plan): sequences are time-major `[T, N, ·]` inside. Per layer and direction
/// one product projects the inputs of all steps (`[T·N, F_in] · W_ihᵀ`, plus `b_ih`), one product
/// per step applies `W_hh`, and the cell's gate pass runs on the step's rows; on AVX-512 an LSTM
/// step makes both in one (`fusesInputProjection`), and without peepholes its gate passes are
/// `LSTMCell`'s. BPTT walks the steps back computing the gate gradients and `dh₋₁` (one product
/// per step), then the weight gradients are one product each over all steps (sgemm, or
/// `TransposedWeightGradient` on AVX-512). Gates and states that backward reads stay in
/// layer-owned buffers, allocated on the first forward and again only when the batch grows.
///
/// `bptt: K` truncates back-propagation through time: each direction's steps are cut, in its
/// reading order (the backward direction reads from t = T − 1 down), into blocks of K steps, and
/// backward drops the gradient that flows from a block's first step into the state entering it
/// (`h`, and `c` for an LSTM), as PyTorch's `h.detach()` every K steps would. So an output's
/// gradient travels back at most K steps (its own included) through the recurrence; inside a
/// block everything is exact, the direct paths from each step to its input, to the weights and
/// down the stacked layers are untouched, and a learned initial state gets gradient from the
/// first block only. Forward is unchanged.
public class RecurrentLayer: Layer {
    public let name: String
    public let type: String
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let steps: Int, features: Int, hidden: Int, layers: Int, directions: Int
    let returnSequences: Bool, dropout: Float, learnedInitialState: Bool, bptt: Int?
    let gateNames: [String]
    /// 1 (h) or 2 (h, c): the states a step carries.
    let stateCount: Int
    /// `[T, N, H]` planes a cell keeps per layer and direction for backward.
    let auxPlanes: Int
    /// The gate gradients of the `W_hh` product differ from those of `W_ih x` (GRU's `r ⊙ …`).
    let separateRecurrentGradients: Bool
    /// Per layer and direction: parameters and gradients in `parameterSpecs` order.
    private var values: [[UnsafeMutablePointer<Float>]] = [], grads: [[UnsafeMutablePointer<Float>]] = []
    /// The bound tensors, kept alive while their pointers are in use.
    private var bound: [Tensor] = []
    private var storage: RecurrentStorage?
    private var dropoutActive = false

    var gateWidth: Int { gateNames.count * hidden }
    func inputSize(layer k: Int) -> Int { k == 0 ? features : directions * hidden }

    init<Options>(_ c: RecurrentConfig<Options>, type: String, gates: [String], states: Int = 1,
                  auxPlanes: Int, separateRecurrentGradients: Bool = false,
                  context: inout LayerBuildContext) throws {
        let s = try context.singleInput(rank: 2, what: "[time, features]")
        guard s[0] >= 1, s[1] >= 1 else {
            throw context.error("needs T ≥ 1 steps of F ≥ 1 features, got \(s)")
        }
        guard c.hidden >= 1 else { throw context.error("must be ≥ 1, got \(c.hidden)", key: "hidden") }
        let layers = c.layers ?? 1, dropout = c.dropout ?? 0
        guard layers >= 1 else { throw context.error("must be ≥ 1, got \(layers)", key: "layers") }
        guard dropout >= 0, dropout < 1 else {
            throw context.error("must be in [0, 1), got \(dropout)", key: "dropout")
        }
        guard dropout == 0 || layers > 1 else {
            throw context.error("acts between stacked layers and needs layers ≥ 2; use a \"dropout\" "
                                + "layer after this one instead", key: "dropout")
        }
        if let k = c.bptt, k < 1 { throw context.error("must be ≥ 1, got \(k)", key: "bptt") }
        name = context.name
        self.type = type
        inputShapes = context.inputShapes
        steps = s[0]; features = s[1]; hidden = c.hidden; self.layers = layers
        directions = c.bidirectional ?? false ? 2 : 1
        returnSequences = c.return_sequences ?? false
        self.dropout = dropout
        learnedInitialState = c.initial_state == .learned
        bptt = c.bptt
        gateNames = gates; stateCount = states; self.auxPlanes = auxPlanes
        self.separateRecurrentGradients = separateRecurrentGradients
        outputShape = returnSequences ? [steps, directions * hidden] : [directions * hidden]
    }

    // MARK: - Cell interface

    /// The cell's parameters after the four PyTorch ones of a layer and direction.
    func cellParameterSpecs(suffix: String) -> [ParameterSpec] { [] }
    /// A phrase for `details` (gate convention, peepholes).
    var cellDetails: String? { nil }
    /// Fills `u.h(t)` and the cell's per-step state from the input projection in `u.gates(t)`,
    /// which it replaces with the gate activations backward reads.
    func forwardStep(_ u: RecurrentUnit, t: Int) { preconditionFailure("\(type): no forward step") }
    /// Writes step t's gate gradients to `u.dGates(t)` (and `u.dRecurrent(t)`) from `u.dh(t)` plus
    /// the carry, and leaves in the carry the gradient of the previous state; with `propagate`
    /// false it may skip the parts through `W_hh` (the caller clears the carry then).
    func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        preconditionFailure("\(type): no backward step")
    }
    /// `dW_hh += Σ_t dGh(t)ᵀ · h₋₁(t)`; overridden where the product is not `W_hh · h₋₁` (GRU with
    /// the reset before it).
    func addRecurrentWeightGradients(_ u: RecurrentUnit) {
        u.addStateProduct(u.dRecurrent(0), rows: gateWidth, into: u.weightHHGrad)
    }

    // MARK: - Layer

    public var parameterSpecs: [ParameterSpec] {
        let g = gateWidth
        func uniform(_ name: String, _ shape: Shape, _ role: ParameterRole) -> ParameterSpec {
            ParameterSpec(name, shape, role: role, initializer: .pytorchDefault(fanIn: hidden))
        }
        var specs: [ParameterSpec] = []
        for k in 0..<layers {
            for d in 0..<directions {
                let sfx = "_l\(k)" + (d == 1 ? "_reverse" : "")
                specs += [uniform("weight_ih" + sfx, [g, inputSize(layer: k)], .weight),
                          uniform("weight_hh" + sfx, [g, hidden], .weight),
                          uniform("bias_ih" + sfx, [g], .bias), uniform("bias_hh" + sfx, [g], .bias)]
                specs += cellParameterSpecs(suffix: sfx)
                if learnedInitialState {
                    specs += ["h0", "c0"].prefix(stateCount).map {
                        ParameterSpec($0 + sfx, [hidden], role: .bias, initializer: .constant(0))
                    }
                }
            }
        }
        return specs
    }

    public var macs: Int { parameterCount * steps }

    public var details: String? {
        let h = hidden
        func split(_ f: Int) -> String { "(\(f)·\(h) + \(h)·\(h) + 2·\(h))" }
        var s = "gates \(gateNames.joined(separator: ",")) × \(split(features)) per direction"
        if layers > 1 { s += "; layers 1…\(layers - 1): × \(split(directions * h))" }
        if directions == 2 { s += "; 2 directions" }
        if let extra = cellDetails { s += "; " + extra }
        if learnedInitialState {
            s += "; learned \(stateCount == 2 ? "h0, c0" : "h0") [\(h)] per layer and direction"
        }
        return s
    }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        let per = parameters.count / (layers * directions)
        bound = parameters + gradients
        values = stride(from: 0, to: parameters.count, by: per).map { parameters[$0..<$0 + per].map(\.data) }
        grads = stride(from: 0, to: parameters.count, by: per).map { gradients[$0..<$0 + per].map(\.data) }
    }

    /// The time steps are sequential but the batch rows of a step are independent: the steps run
    /// on the worker pool's parts, each on its share of the rows with a one-thread BLAS (no
    /// hand-off per step), after every step's input projection, its rows split the same way.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let n = inputs[0].shape[0], st = reserve(batch: n), width = directions * hidden
        Self.transpose(inputs[0].data, into: st.input.data, outer: n, inner: steps, width: features)
        dropoutActive = context.isTraining && dropout > 0
        for k in 0..<layers {
            var x = k == 0 ? st.input.data : st.outputs[k - 1].data
            if k > 0 && dropoutActive {
                let m = st.masks[k - 1].data, y = st.dropped[k - 1].data, keep = 1 - dropout
                for i in 0..<steps * n * width {
                    m[i] = context.rng.uniform() < keep ? 1 / keep : 0
                    y[i] = x[i] * m[i]
                }
                x = y
            }
            for d in 0..<directions { forwardUnit(unit(k, d, batch: n, input: x, st)) }
        }
        let last = st.outputs[layers - 1].data
        if returnSequences {
            Self.transpose(last, into: output.data, outer: steps, inner: n, width: width)
        } else {
            finalStates(n) { (output.data + $0).update(from: last + $1, count: hidden) }
        }
    }

    /// Backward splits its steps the same way (unless a step adds into shared gradients), and
    /// the products over all steps split their rows (`gemmAcrossParts`).
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let st = storage else { preconditionFailure("\(name): backward before forward") }
        let n = dy.shape[0], width = directions * hidden, dOut = st.dOutput.data
        if returnSequences {
            Self.transpose(dy.data, into: dOut, outer: n, inner: steps, width: width)
        } else {
            // Only the final states have a gradient: it starts each top-layer unit's h carry, and
            // their steps all read one zero step of dOut (zeroing all T steps on one thread and
            // reading them back took 1.5% of LSTM-128's profile).
            dOut.update(repeating: 0, count: n * width)
        }
        for k in stride(from: layers - 1, through: 0, by: -1) {
            let x = k == 0 ? st.input.data : dropoutActive ? st.dropped[k - 1].data : st.outputs[k - 1].data
            let dIn = k > 0 || inputGradients[0] != nil ? st.dInput.data : nil
            dIn?.update(repeating: 0, count: steps * n * inputSize(layer: k))
            for d in 0..<directions {
                let u = unit(k, d, batch: n, input: x, st), final = UnsafePointer(dy.data + d * hidden)
                backwardUnit(u, inputGradient: dIn, finalGradient: u.finalGradientOnly ? final : nil)
            }
            if k > 0 {
                // The previous layer's output gradient, through this layer's dropout mask.
                let src = st.dInput.data, count = steps * n * width
                if dropoutActive {
                    let m = st.masks[k - 1].data
                    for i in 0..<count { dOut[i] = src[i] * m[i] }
                } else {
                    dOut.update(from: src, count: count)
                }
            } else if let dx = inputGradients[0] {
                Self.transpose(st.dInput.data, into: dx.data, outer: steps, inner: n, width: features,
                               add: true)
            }
        }
    }

    /// Calls `body(offset in y, offset in the last layer's time-major output)` for each sample's
    /// final state of each direction (forward: t = T − 1; backward: t = 0).
    private func finalStates(_ n: Int, _ body: (Int, Int) -> Void) {
        let width = directions * hidden
        for b in 0..<n {
            for d in 0..<directions {
                let t = d == 0 ? steps - 1 : 0
                body(b * width + d * hidden, (t * n + b) * width + d * hidden)
            }
        }
    }

    // MARK: - One layer and direction

    private func forwardUnit(_ u: RecurrentUnit) {
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
        stepBias(u, into: bias)
        if let packed = u.packed, u.fusedProjection {
            Self.pack(fusedProduct(inputSize: u.inputSize), p[0], rows: u.inputSize, then: u.weightHH, transposed: true,
                      into: packed)
        } else if let packed = u.packed {
            let projection = PackedMatrix(rows: u.inputSize, columns: g)
            Self.pack(projection, p[0], rows: u.inputSize, transposed: true, into: packed)
            WorkerPool.shared.forEachRange(steps * n, itemSize: g * u.inputSize,
                                           InputProjection(matrix: projection, input: u.input, packed: packed,
                                                           bias: bias, gates: gates))
        } else {
            gemmAcrossParts(transB: true, m: steps * n, n: g, k: u.inputSize, a: u.input, b: p[0], c: gates)
            for r in 0..<steps * n {
                let row = gates + r * g
                for j in 0..<g { row[j] += bias[j] }
            }
        }
        if let packed = u.packed, !u.fusedProjection {
            Self.pack(hiddenProduct, u.weightHH, rows: hidden, transposed: true, into: packed)
        }
        let parts = min(WorkerPool.shared.parts, n / Self.minimumPartRows)
        if parts > 1 {
            WorkerPool.shared.run(ForwardSteps(layer: self, unit: u, parts: parts))
        } else {
            WorkerPool.shared.withWideBLAS { forwardSteps(u) }
        }
    }

    /// Packs `matrix` from W (`[W₁ | W₂]`, W₁ giving its first `rows` rows; with `transposed`,
    /// from Wᵀ), the parts of the pool each on their share of the panels: weights change every
    /// step, and packing them on one thread while the other waited was 2.4% of LSTM-128's step.
    static func pack(_ matrix: PackedMatrix, _ first: UnsafePointer<Float>, rows: Int,
                     then second: UnsafePointer<Float>? = nil, transposed: Bool, into packed: UnsafeMutablePointer<Float>) {
        WorkerPool.shared.forEachRange(matrix.panels, itemSize: matrix.rows * matrix.panel,
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

    /// The shapes of the step products: `[H, G·H]` (`W_hhᵀ`, forward) and `[G·H, H]` (`W_hh`, backward).
    var hiddenProduct: PackedMatrix { PackedMatrix(rows: hidden, columns: gateWidth) }
    var gateProduct: PackedMatrix { PackedMatrix(rows: gateWidth, columns: hidden) }
    /// `[F_in + H, G·H]`: `[W_ih | W_hh]ᵀ`, a fused forward step's product.
    func fusedProduct(inputSize: Int) -> PackedMatrix { PackedMatrix(rows: inputSize + hidden, columns: gateWidth) }

    /// Whether a forward step's pre-activations are `stepBias + x·W_ihᵀ + h₋₁·W_hhᵀ` and nothing
    /// else (LSTM: `stepBias` folds in every constant term). With the packed products these
    /// cells make them in one product per step over `[x, h₋₁]`: the gates are written once, from
    /// registers, where a projection of all steps up front leaves `T·N·G·H` floats (3.5 MiB for
    /// LSTM-128) to be read back from outer caches, one step at a time.
    var fusesInputProjection: Bool { false }

    /// The bias added to every step's input projection once, for all steps: `b_ih`. A cell whose
    /// other constant terms simply add to the same pre-activations folds them in here too.
    func stepBias(_ u: RecurrentUnit, into bias: UnsafeMutablePointer<Float>) {
        bias.update(from: u.values[2], count: gateWidth)
    }

    /// Fewer rows per part make the step products too thin to pay for a second thread.
    static let minimumPartRows = 8

    /// Every step, in order, on the unit's rows.
    private func forwardSteps(_ u: RecurrentUnit) {
        for s in 0..<steps { forwardStep(u, t: u.reverse ? steps - 1 - s : s) }
    }

    /// One unit's steps, the batch rows split between `parts` parts.
    struct ForwardSteps: PartitionedWork {
        let layer: RecurrentLayer, unit: RecurrentUnit, parts: Int
        func run(part: Int) {
            if part < parts { layer.forwardSteps(unit.rows(WorkerPool.share(unit.batch, part: part, of: parts))) }
        }
    }

    /// `finalGradient`: the final state's gradient (rows `directions·H` apart), where it is the
    /// only one (`RecurrentUnit.finalGradientOnly`).
    private func backwardUnit(_ u: RecurrentUnit, inputGradient dIn: UnsafeMutablePointer<Float>?,
                              finalGradient: UnsafePointer<Float>?) {
        let n = u.batch, g = gateWidth, p = u.values, dp = u.grads
        u.carry.update(repeating: 0, count: stateCount * n * hidden)
        if let finalGradient {
            for b in 0..<n { (u.dhCarry + b * hidden).update(from: finalGradient + b * directions * hidden, count: hidden) }
        }
        if let packed = u.packed { Self.pack(gateProduct, u.weightHH, rows: gateWidth, transposed: false, into: packed) }
        let parts = stepsShareGradients ? 1 : max(1, min(WorkerPool.shared.parts, n / Self.minimumPartRows))
        guard let sums = storage?.gateSums.data else { preconditionFailure("\(name): no storage") }
        let columns = separateRecurrentGradients ? 2 * g : g
        sums.update(repeating: 0, count: parts * columns)
        if parts > 1 {
            WorkerPool.shared.run(BackwardSteps(layer: self, unit: u, parts: parts, columns: columns))
        } else {
            WorkerPool.shared.withWideBLAS { backwardSteps(u) }
        }
        // db_ih += Σ dG and db_hh += Σ dGh (the same sums where the two coincide), from the parts.
        for part in 0..<parts {
            let s = sums + part * columns, sh = separateRecurrentGradients ? s + g : s
            for j in 0..<g { dp[2][j] += s[j] }
            for j in 0..<g { u.biasHHGrad[j] += sh[j] }
        }
        if learnedInitialState {
            for s in 0..<stateCount {
                Self.addColumnSums(u.carry + s * n * hidden, rows: n, cols: hidden,
                                   into: dp[dp.count - stateCount + s])
            }
        }
        // dW_ih += dGᵀ · X and dW_hh (`addRecurrentWeightGradients`) over all steps: with the AVX-512
        // kernels transposed, each part on its share of the gates; dX += dG · W_ih.
        let dG = u.dGates(0)
        if let scratch = u.packed != nil ? storage?.transposedWeights?.data : nil {
            let panels = g / TransposedWeightGradient.width
            WorkerPool.shared.forEachRange(panels, itemSize: steps * n * g, WeightGradients(layer: self, unit: u, scratch: scratch))
            if !recurrentGradientIsPlain { addRecurrentWeightGradients(u) }
        } else {
            gemmAcrossParts(transA: true, m: g, n: u.inputSize, k: steps * n, a: dG, b: u.input, beta: 1, c: dp[0])
            addRecurrentWeightGradients(u)
        }
        if let dIn { gemmAcrossParts(m: steps * n, n: u.inputSize, k: g, a: dG, b: p[0], beta: 1, c: dIn) }
    }

    /// The weights' gradients for a range of 64-gate panels: `dW_ih += (Xᵀ · dG)ᵀ` and, where
    /// plain, `dW_hh += (H₋₁ᵀ · dGh)ᵀ` over all steps, each product made transposed in `scratch`
    /// (`[F_in + H, G·H]`, the range's columns) and added back. One unpacked kernel: OpenBLAS
    /// packed dG twice, and its `dGᵀ · X` (N = 28) ran at half its speed on `dGᵀ · H₋₁`.
    struct WeightGradients: RangeWork {
        let layer: RecurrentLayer, unit: RecurrentUnit, scratch: UnsafeMutablePointer<Float>
        func run(_ panels: Range<Int>) {
            let u = unit, g = layer.gateWidth, f = u.inputSize, hid = layer.hidden, n = u.batch
            let width = TransposedWeightGradient.width, first = panels.lowerBound * width, m = panels.count * width
            let ch = scratch + f * g
            TransposedWeightGradient.multiply(k: layer.steps * n, a: u.dGates(0) + first, lda: g, m: m, b: u.input, ldb: f,
                                              n: f, c: scratch + first, ldc: g, accumulate: false)
            RecurrentLayer.addTransposed(scratch, ldc: g, rows: first..<first + m, width: f, into: u.grads[0])
            guard layer.recurrentGradientIsPlain else { return }
            // As `RecurrentUnit.addStateProduct`: the steps whose h₋₁ is a stored output, then a
            // learned initial state.
            var started = false
            if layer.steps > 1 {
                let (t, source) = u.reverse ? (0, 1) : (1, 0)
                TransposedWeightGradient.multiply(k: (layer.steps - 1) * n, a: u.dRecurrent(t) + first, lda: g, m: m,
                                                  b: u.h(source), ldb: u.outputStride, n: hid, c: ch + first, ldc: g,
                                                  accumulate: false)
                started = true
            }
            if layer.learnedInitialState {
                let t0 = u.reverse ? layer.steps - 1 : 0
                TransposedWeightGradient.multiply(k: n, a: u.dRecurrent(t0) + first, lda: g, m: m, b: u.initial,
                                                  ldb: hid, n: hid, c: ch + first, ldc: g, accumulate: started)
                started = true
            }
            if started { RecurrentLayer.addTransposed(ch, ldc: g, rows: first..<first + m, width: hid, into: u.weightHHGrad) }
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

    /// Whether `dW_hh` is `Σ_t dGh(t)ᵀ · h₋₁(t)` (`addRecurrentWeightGradients` not overridden), so
    /// that `WeightGradients` may make it.
    var recurrentGradientIsPlain: Bool { true }

    /// Whether a backward step adds into gradients all rows share (LSTM peepholes): then the
    /// steps cannot split the batch.
    var stepsShareGradients: Bool { false }

    /// Whether backward steps write the gate gradients over the gates they read (`LSTMCell`, which
    /// loads each vector of gates before storing its gradients): nothing reads a step's gates
    /// after its backward step, and a separate dG's lines came in from outer caches only to be
    /// overwritten.
    var gradientsOverGates: Bool { false }

    /// Whether a backward step adds the column sums of its gate gradients into `u.gateSums`
    /// itself, while they are in registers (`LSTMCell`).
    var stepsSumGateGradients: Bool { false }

    /// Every step, last first, on the unit's rows; where truncated BPTT cuts, the rows' carry is
    /// cleared. Each step's gate gradients are added into `sums` (then those of `W_hh`'s product
    /// where they differ) while still in cache: the biases' gradients, without a pass over all
    /// steps' gradients after (LSTM-128 training, alternating runs: 23,916–24,809 → 24,998–25,334
    /// images/s).
    private func backwardSteps(_ u: RecurrentUnit) {
        let sums = u.gateSums
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let cut = bptt.map { s > 0 && s % $0 == 0 } ?? false
            let propagate = !cut && (s > 0 || learnedInitialState), t = u.reverse ? steps - 1 - s : s
            backwardStep(u, t: t, propagate: propagate)
            if !stepsSumGateGradients { Self.addColumnSums(u.dGates(t), rows: u.rows, cols: gateWidth, into: sums) }
            if separateRecurrentGradients {
                Self.addColumnSums(u.dRecurrent(t), rows: u.rows, cols: gateWidth, into: sums + gateWidth)
            }
            if !propagate {
                for k in 0..<stateCount { (u.carry + k * u.batch * hidden).update(repeating: 0, count: u.rows * hidden) }
            }
        }
    }

    struct BackwardSteps: PartitionedWork {
        let layer: RecurrentLayer, unit: RecurrentUnit, parts: Int, columns: Int
        func run(part: Int) {
            guard part < parts else { return }
            var u = unit.rows(WorkerPool.share(unit.batch, part: part, of: parts))
            u.gateSums += part * columns
            layer.backwardSteps(u)
        }
    }

    private func unit(_ k: Int, _ d: Int, batch n: Int, input: UnsafeMutablePointer<Float>,
                      _ st: RecurrentStorage) -> RecurrentUnit {
        let i = k * directions + d, packed = n >= PackedMatrix.minimumRows ? st.packed?.data : nil
        let dGates = st.dGates?.data ?? st.gates[i].data
        return RecurrentUnit(
            steps: steps, batch: n, hidden: hidden, gateWidth: gateWidth, reverse: d == 1,
            learnedInitialState: learnedInitialState, values: values[i], grads: grads[i],
            input: input, inputSize: inputSize(layer: k), output: st.outputs[k].data + d * hidden,
            outputStride: directions * hidden, dOutput: st.dOutput.data + d * hidden,
            finalGradientOnly: !returnSequences && k == layers - 1,
            gateBase: st.gates[i].data, auxBase: st.aux[i].data, initial: st.initial[i].data,
            dGateBase: dGates, dRecurrentBase: st.dRecurrent?.data ?? dGates,
            carry: st.carry.data, scratch: st.scratch.data, stepBias: st.stepBias.data, gateSums: st.gateSums.data,
            packed: packed, fusedProjection: packed != nil && fusesInputProjection)
    }

    private func reserve(batch n: Int) -> RecurrentStorage {
        if let s = storage, s.capacity >= n { return s }
        let s = RecurrentStorage(self, capacity: n)
        storage = s
        return s
    }
}
