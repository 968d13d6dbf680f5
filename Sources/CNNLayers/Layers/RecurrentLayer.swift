import CNNAVX512
import CNNCore

/// A recurrent layer of any cell: GRU, LSTM and SimpleRNN are `RecurrentLayer`s of `GRUCell`,
/// `LSTMMemoryCell` and `RNNCell`, whose files hold only the gate math of one step.
///
/// `x: [N, T, F] → y: [N, H·dirs]`, the last layer's final state of each direction in PyTorch's
/// `h_n` order (forward, then backward, whose final state is the one after reading t = 0), or
/// with `return_sequences` `y: [N, T, H·dirs]` (PyTorch's `output`). `layers` stacks layers, each
/// reading the previous one's `[T, H·dirs]` output, with inverted `dropout` on it in training
/// (PyTorch's `dropout` argument, masks from the context's RNG; an error with one layer).
///
/// Parameters per layer k and direction, PyTorch's names, layouts and U(±1/√H) init:
/// `weight_ih_l{k}` `[G·H, F_in]`, `weight_hh_l{k}` `[G·H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}`
/// `[G·H]` (`_reverse` for the backward direction; `bias: "single"` leaves `bias_hh` out and runs
/// with a zero one, whose gradient is dropped); then the cell's own; then with
/// `initial_state: learned` `h0_l{k}` (and `c0_l{k}`) `[H]`, zero at first. MACs: parameters × T
/// (torchinfo's rule).
///
/// Kernels (cuDNN's plan): sequences are time-major `[T, N, ·]` inside. Per layer and direction
/// one product projects the inputs of all steps (`[T·N, F_in] · W_ihᵀ`, plus `b_ih`), one product
/// per step applies `W_hh`, and the cell's gate pass runs on the step's rows; on AVX-512 an LSTM
/// step makes both in one (`RecurrentCell.fusesInputProjection`), and without peepholes its gate
/// passes are `LSTMCell`'s. BPTT walks the steps back computing the gate gradients and `dh₋₁` (one
/// product per step), then the weight gradients are one product each over all steps (sgemm, or
/// `TransposedWeightGradient` on AVX-512). Gates and states that backward reads are the layer's
/// saved state (`RecurrentSaved`); backward's scratch is layer-owned (`RecurrentScratch`),
/// allocated on the first call and again only when the batch grows. This file stacks the layers
/// and directions; `RecurrentSteps.swift` runs one of them over its steps and
/// `RecurrentProducts.swift` makes its products over all steps.
///
/// `bptt: K` truncates back-propagation through time: each direction's steps are cut, in its
/// reading order (the backward direction reads from t = T − 1 down), into blocks of K steps, and
/// backward drops the gradient that flows from a block's first step into the state entering it
/// (`h`, and `c` for an LSTM), as PyTorch's `h.detach()` every K steps would. So an output's
/// gradient travels back at most K steps (its own included) through the recurrence; inside a
/// block everything is exact, the direct paths from each step to its input, to the weights and
/// down the stacked layers are untouched, and a learned initial state gets gradient from the
/// first block only. Forward is unchanged.
///
/// After an `embedding` with a `padding_index` (`SequenceLengths`), each sample stops at its
/// last real token, as PyTorch's packed sequences: a padded step leaves the state as it was
/// (`carryThroughPadding`), so the forward direction's final state is the one at the last real
/// token and the backward direction starts there from its initial state; with
/// `return_sequences` the outputs of padded steps are zero (`pad_packed_sequence`'s padding).
///
/// Generic over the cell rather than holding `any RecurrentCell`: each layer type is its own
/// (`GRU`, `LSTM`, `SimpleRNN`, with their registrations and options), the cell is stored inline,
/// and the gate passes are concrete code in the cell's type, called once per step through its
/// conformance as the base class's overrides were through its vtable. What does not depend on
/// the cell is not generic (`RecurrentProducts`, `RecurrentKernels`, `RecurrentUnit`).
public final class RecurrentLayer<Cell: RecurrentCell>: Layer, RecurrentLayerProtocol {
    public typealias Options = Cell.Options
    public typealias Config = RecurrentConfig<Options>

    public let name: String
    public let type: String
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let steps: Int, features: Int, hidden: Int, layers: Int, directions: Int
    let returnSequences: Bool, dropout: Float, learnedInitialState: Bool, bptt: Int?, singleBias: Bool
    /// With a single bias: a zero `b_hh` [G·H], then a gradient sink [G·H] per layer and direction.
    private let absentBias: UnsafeMutablePointer<Float>?
    let cell: Cell
    /// Whether the storage holds packed weights for the AVX-512 step products.
    let kernels: KernelOptions
    /// G·H: the rows of `W_ih` and `W_hh`.
    let gateWidth: Int
    /// Per layer and direction: parameters and gradients in `parameterSpecs` order.
    private var values: [[UnsafeMutablePointer<Float>]] = [], grads: [[UnsafeMutablePointer<Float>]] = []
    /// The bound tensors, kept alive while their pointers are in use.
    private var bound: [Tensor] = []
    private(set) var storage: RecurrentScratch?
    /// The saved state's buffers as last carved, reused while the batch and memory are the same.
    private var carved: RecurrentSaved?
    private var dropoutActive = false
    /// The sequence lengths of the padded input, if it is.
    let lengths: SequenceLengths?

    var stateCount: Int { Cell.stateCount }
    func inputSize(layer k: Int) -> Int { k == 0 ? features : directions * hidden }

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        cell = try Cell(c.options, hidden: c.hidden, context: &context)
        let s = try context.singleInput(rank: 2, what: "[time, features]")
        guard s[0] >= 1, s[1] >= 1 else {
            throw context.error("needs T ≥ 1 steps of F ≥ 1 features, got \(s)")
        }
        guard c.hidden >= 1 else { throw context.error("must be ≥ 1, got \(c.hidden)", key: "hidden") }
        let layers = c.layers ?? 1, dropout = c.dropout ?? 0
        guard (1...1_000).contains(layers) else {
            throw context.error("must be in 1...1000, got \(layers)", key: "layers")
        }
        guard dropout >= 0, dropout < 1 else {
            throw context.error("must be in [0, 1), got \(dropout)", key: "dropout")
        }
        guard dropout == 0 || layers > 1 else {
            throw context.error("acts between stacked layers and needs layers ≥ 2; use a \"dropout\" "
                                + "layer after this one instead", key: "dropout")
        }
        if let k = c.bptt, k < 1 { throw context.error("must be ≥ 1, got \(k)", key: "bptt") }
        name = context.name
        kernels = context.kernels
        type = Cell.type
        inputShapes = context.inputShapes
        steps = s[0]; features = s[1]; hidden = c.hidden; self.layers = layers
        directions = c.bidirectional ?? false ? 2 : 1
        returnSequences = c.returnSequences ?? false
        self.dropout = dropout
        learnedInitialState = c.initialState == .learned
        bptt = c.bptt
        singleBias = c.bias == .single
        if singleBias && !Cell.recurrentBiasFolds {
            throw context.error("a \(Cell.type)'s b_hn is multiplied by the reset gate, so it cannot fold into b_ih; "
                                + "use \"double\"", key: "bias")
        }
        gateWidth = Cell.gateNames.count * hidden
        lengths = context.sequenceLengths(steps: steps)
        outputShape = returnSequences ? [steps, directions * hidden] : [directions * hidden]
        absentBias = singleBias ? .allocate(capacity: (1 + layers * directions) * gateWidth) : nil
        absentBias?.initialize(repeating: 0, count: (1 + layers * directions) * gateWidth)
    }

    deinit { absentBias?.deallocate() }

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
                          uniform("weight_hh" + sfx, [g, hidden], .weight), uniform("bias_ih" + sfx, [g], .bias)]
                if !singleBias { specs.append(uniform("bias_hh" + sfx, [g], .bias)) }
                specs += cell.parameterSpecs(suffix: sfx, hidden: hidden)
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
        func split(_ f: Int) -> String { "(\(f)·\(h) + \(h)·\(h) + \(singleBias ? "" : "2·")\(h))" }
        var s = "gates \(Cell.gateNames.joined(separator: ",")) × \(split(features)) per direction"
        if layers > 1 { s += "; layers 1…\(layers - 1): × \(split(directions * h))" }
        if directions == 2 { s += "; 2 directions" }
        if let extra = cell.details(hidden: h) { s += "; " + extra }
        if learnedInitialState {
            s += "; learned \(stateCount == 2 ? "h0, c0" : "h0") [\(h)] per layer and direction"
        }
        if let lengths { s += "; stops at each sample's length (\(lengths.source))" }
        return s
    }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        let per = parameters.count / (layers * directions)
        bound = parameters + gradients
        values = stride(from: 0, to: parameters.count, by: per).map { parameters[$0..<$0 + per].map(\.data) }
        grads = stride(from: 0, to: parameters.count, by: per).map { gradients[$0..<$0 + per].map(\.data) }
        if let absentBias {
            // Every unit reads b_hh at index 3: the zero one, and its gradient goes to its own sink.
            for u in values.indices {
                values[u].insert(absentBias, at: 3)
                grads[u].insert(absentBias + (1 + u) * gateWidth, at: 3)
            }
        }
    }

    /// What forward keeps for backward (`RecurrentSaved`): the time-major input, every layer's
    /// outputs (and dropout masks and dropped copies), gates, cell planes and initial states.
    public func savedStateFloats(batch: Int) -> Int { RecurrentSaved.floats(self, batch: batch) }

    /// The layers in order, each direction of a layer over the same (dropped-out) input; see
    /// `forwardUnit` for how one runs on the worker pool's parts.
    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let n = inputs[0].shape[0], sv = saved(batch: n, context.saved), st = reserve(batch: n)
        let width = directions * hidden, lengths = self.lengths?.read(context, batch: n)
        RecurrentKernels.transpose(inputs[0].data, into: sv.input, outer: n, inner: steps, width: features)
        dropoutActive = context.isTraining && dropout > 0
        for k in 0..<layers {
            var x = k == 0 ? sv.input : sv.outputs[k - 1]
            if k > 0 && dropoutActive {
                let m = sv.masks[k - 1], y = sv.dropped[k - 1], keep = 1 - dropout
                for i in 0..<steps * n * width {
                    m[i] = context.rng.uniform() < keep ? 1 / keep : 0
                    y[i] = x[i] * m[i]
                }
                x = y
            }
            for d in 0..<directions {
                forwardUnit(unit(k, d, batch: n, input: x, sv, st, pool: context.pool, lengths: lengths))
            }
        }
        let last = sv.outputs[layers - 1]
        if returnSequences {
            RecurrentKernels.transpose(last, into: output.data, outer: steps, inner: n, width: width)
            forEachPaddedStep(lengths, batch: n) { b, t in
                (output.data + (b * steps + t) * width).update(repeating: 0, count: width)
            }
        } else {
            finalStates(n) { (output.data + $0).update(from: last + $1, count: hidden) }
        }
    }

    /// The layers from the top, each direction's gradient into the layer's input gradient, which
    /// goes through the dropout mask below to become the output gradient of the layer under it.
    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let n = dy.shape[0], sv = saved(batch: n, context.saved), st = reserve(batch: n)
        let width = directions * hidden, dOut = st.dOutput.data, lengths = self.lengths?.read(context, batch: n)
        if returnSequences {
            RecurrentKernels.transpose(dy.data, into: dOut, outer: n, inner: steps, width: width)
            // Padded steps output a constant zero: no gradient comes back through them.
            forEachPaddedStep(lengths, batch: n) { b, t in
                (dOut + (t * n + b) * width).update(repeating: 0, count: width)
            }
        } else {
            // Only the final states have a gradient: it starts each top-layer unit's h carry, and
            // their steps all read one zero step of dOut (not T zeroed steps, written on one
            // thread and read back).
            dOut.update(repeating: 0, count: n * width)
        }
        for k in stride(from: layers - 1, through: 0, by: -1) {
            let x = k == 0 ? sv.input : dropoutActive ? sv.dropped[k - 1] : sv.outputs[k - 1]
            let dIn = k > 0 || inputGradients[0] != nil ? st.dInput.data : nil
            dIn?.update(repeating: 0, count: steps * n * inputSize(layer: k))
            for d in 0..<directions {
                let u = unit(k, d, batch: n, input: x, sv, st, pool: context.pool, lengths: lengths)
                let final = UnsafePointer(dy.data + d * hidden)
                backwardUnit(u, inputGradient: dIn, finalGradient: u.finalGradientOnly ? final : nil)
            }
            if k > 0 {
                // The previous layer's output gradient, through this layer's dropout mask.
                let src = st.dInput.data, count = steps * n * width
                if dropoutActive {
                    let m = sv.masks[k - 1]
                    for i in 0..<count { dOut[i] = src[i] * m[i] }
                } else {
                    dOut.update(from: src, count: count)
                }
            } else if let dx = inputGradients[0] {
                RecurrentKernels.transpose(st.dInput.data, into: dx.data, outer: steps, inner: n, width: features,
                                           add: true)
            }
        }
    }

    /// Calls `body(b, t)` for every step t past sample b's length.
    private func forEachPaddedStep(_ lengths: UnsafePointer<Int32>?, batch n: Int, _ body: (Int, Int) -> Void) {
        guard let lengths else { return }
        for b in 0..<n where Int(lengths[b]) < steps {
            for t in max(0, Int(lengths[b]))..<steps { body(b, t) }
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

    /// Layer k's direction d over a batch of n, reading `input` (`[T, N, F_in]`), stopping at
    /// `lengths` where the input is padded.
    private func unit(_ k: Int, _ d: Int, batch n: Int, input: UnsafeMutablePointer<Float>,
                      _ sv: RecurrentSaved, _ st: RecurrentScratch, pool: WorkerPool,
                      lengths: UnsafePointer<Int32>?) -> RecurrentUnit {
        let i = k * directions + d, packed = n >= PackedMatrix.minimumRows ? st.packed?.data : nil
        let dGates = st.dGates?.data ?? sv.gates[i]
        return RecurrentUnit(
            steps: steps, batch: n, hidden: hidden, gateWidth: gateWidth, reverse: d == 1,
            learnedInitialState: learnedInitialState, values: values[i], grads: grads[i],
            input: input, inputSize: inputSize(layer: k), output: sv.outputs[k] + d * hidden,
            outputStride: directions * hidden, dOutput: st.dOutput.data + d * hidden,
            finalGradientOnly: !returnSequences && k == layers - 1,
            gateBase: sv.gates[i], auxBase: sv.aux[i], initial: sv.initial[i],
            dGateBase: dGates, dRecurrentBase: st.dRecurrent?.data ?? dGates,
            carry: st.carry.data, scratch: st.scratch.data, stepBias: st.stepBias.data, gateSums: st.gateSums.data,
            packed: packed, fusedProjection: packed != nil && cell.fusesInputProjection, pool: pool)
            .padded(lengths, held: st.held?.data)
    }

    private func reserve(batch n: Int) -> RecurrentScratch {
        if let s = storage, s.capacity >= n { return s }
        let s = RecurrentScratch(self, capacity: n)
        storage = s
        return s
    }

    /// The saved state's buffers for a batch of `n`.
    private func saved(batch n: Int, _ state: SavedState) -> RecurrentSaved {
        if let c = carved, c.batch == n, c.base == state.base { return c }
        let c = RecurrentSaved(self, batch: n, in: state)
        carved = c
        return c
    }
}

/// What every `RecurrentLayer` has whatever its cell: the shape of its stack, for code that reads
/// a recurrent layer without knowing the cell (the equations' reference in the tests).
protocol RecurrentLayerProtocol: Layer {
    /// H, the stacked layers, 1 or 2 directions.
    var hidden: Int { get }
    var layers: Int { get }
    var directions: Int { get }
    /// Whether the output is every step's `[T, H·dirs]` rather than the final states.
    var returnSequences: Bool { get }
    /// Floats the saved buffers for `batch` span, which `savedStateFloats` must declare.
    func allocatedSavedFloats(batch: Int) -> Int
}

extension RecurrentLayer {
    func allocatedSavedFloats(batch: Int) -> Int {
        RecurrentSaved(self, batch: batch, in: SavedState(allocating: savedStateFloats(batch: batch))).floats
    }
}
