import CNNAVX512
import CNNCore

/// Long short-term memory (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000) with
/// PyTorch `nn.LSTM`'s equations, gate order `i, f, g, o`, names and layouts (see
/// `LSTMMemoryCell`). `x: [N, T, F] → y: [N, H·dirs]` or `[N, T, H·dirs]` of h, as PyTorch's;
/// stacking, directions, initial states (`h0`, `c0`) and `bptt` as in `RecurrentLayer`.
public typealias LSTM = RecurrentLayer<LSTMMemoryCell>

extension LSTM {
    public var peepholes: Bool { cell.peepholes }
    public var forgetBias: Float { cell.forgetBias }
    var vectorCell: Bool { cell.vectorCell }

    public static var registration: LayerRegistration {
        LayerRegistration(
            type: Cell.type,
            summary: "long short-term memory (PyTorch nn.LSTM; stacked, bidirectional, peepholes)",
            keys: Config.documentedKeys + [
                ConfigKey("peepholes", "bool", default: "false",
                          "Diagonal peephole weights V_i, V_f on c₋₁ and V_o on c (Gers & Schmidhuber 2000)."),
                ConfigKey("forget_bias", "number", default: "1.0",
                          "Added to the forget gate's pre-activation at every step, as TensorFlow's LSTMCell; "
                          + "PyTorch has 0 (add it to the forget slice of bias_ih to convert)."),
            ],
            example: LayerExample(["hidden": 3, "peepholes": true, "bidirectional": true,
                                   "initial_state": "learned"], inputs: [[4, 5]])
        ) { context in try LSTM(context.decode(Config.self), context: &context) }
    }
}

/// An LSTM step (named apart from `LSTMCell`, its AVX-512 gate passes):
/// `i = σ(W_ii x + b_ii + W_hi h₋₁ + b_hi)`,
/// `f = σ(W_if x + b_if + W_hf h₋₁ + b_hf + forget_bias)`,
/// `g = tanh(W_ig x + b_ig + W_hg h₋₁ + b_hg)`, `o = σ(W_io x + b_io + W_ho h₋₁ + b_ho)`,
/// `c = f ⊙ c₋₁ + i ⊙ g`, `h = o ⊙ tanh(c)`.
///
/// `forget_bias` (default 1.0, as Jozefowicz et al. 2015 recommend): PyTorch initialises all
/// biases U(±1/√H), so at first f ≈ ½ and the gradient along c halves at every step. The
/// constant is added to the forget gate's input at every step (TensorFlow's
/// `LSTMCell(forget_bias=)`), which trains exactly as if the forget slice of `bias_ih` started
/// at `forget_bias` plus its U(±1/√H) draw, while the stored parameters stay PyTorch's: to move
/// weights to PyTorch add `forget_bias` to `bias_ih[H..<2H]` (or train with `forget_bias: 0`).
///
/// `peepholes` (default false; Gers & Schmidhuber 2000): diagonal weights from the cell, `+ V_i ⊙
/// c₋₁` in i, `+ V_f ⊙ c₋₁` in f and `+ V_o ⊙ c` (the new cell) in o; `weight_peep_i_l{k}`,
/// `weight_peep_f_l{k}`, `weight_peep_o_l{k}` `[H]` (`_reverse`), U(±1/√H). Per step it keeps
/// `i, f, g, o`, c and tanh c.
public struct LSTMMemoryCell: RecurrentCell {
    public struct Options: Decodable, Sendable {
        var peepholes: Bool?
        var forgetBias: Float?

        private enum CodingKeys: String, CodingKey { case peepholes, forgetBias = "forget_bias" }
    }

    public static let type = "lstm"
    public static let gateNames = ["i", "f", "g", "o"]
    public static let stateCount = 2
    public static let auxPlanes = 2
    public static let recurrentBiasFolds = true

    public let peepholes: Bool
    public let forgetBias: Float
    /// Whether the gate passes run in `LSTMCell`'s AVX-512 loops (no peepholes, H a multiple of 16).
    let vectorCell: Bool

    public init(_ options: Options, hidden: Int, context: inout LayerBuildContext) throws {
        peepholes = options.peepholes ?? false
        forgetBias = options.forgetBias ?? 1
        vectorCell = context.kernels.avx512 && !peepholes && LSTMCell.supports(hidden: hidden)
        guard forgetBias.isFinite else {
            throw context.error("must be a finite number, got \(forgetBias)", key: "forget_bias")
        }
    }

    public func parameterSpecs(suffix: String, hidden: Int) -> [ParameterSpec] {
        guard peepholes else { return [] }
        return ["i", "f", "o"].map {
            ParameterSpec("weight_peep_\($0)" + suffix, [hidden], role: .weight,
                          initializer: .pytorchDefault(fanIn: hidden))
        }
    }

    public func details(hidden: Int) -> String? {
        (peepholes ? "peepholes 3·\(hidden) per direction; " : "") + "forget bias +\(forgetBias)"
    }

    public var stepsShareGradients: Bool { peepholes }

    public var stepsSumGateGradients: Bool { vectorCell }

    public var gradientsOverGates: Bool { vectorCell }

    /// `stepBias` folds in every constant term of the pre-activations.
    public var fusesInputProjection: Bool { true }

    /// All of an LSTM's constant pre-activation terms add: `b_ih + b_hh`, and the forget bias on f.
    public func stepBias(_ u: RecurrentUnit, into bias: UnsafeMutablePointer<Float>) {
        let (bih, bhh) = (u.values[2], u.biasHH)
        for k in 0..<u.gateWidth { bias[k] = bih[k] + bhh[k] }
        for j in u.hidden..<2 * u.hidden { bias[j] += forgetBias }
    }

    public func forwardStep(_ u: RecurrentUnit, t: Int) {
        let n = u.rows, hid = u.hidden, h2 = 2 * hid, h3 = 3 * hid, g4 = 4 * hid
        let gates = u.gates(t), y = u.h(t)
        let cPrev = u.cPrev(t), cell = u.aux(0, t), tanhCell = u.aux(1, t)
        // gates = every bias (`stepBias`) + x·W_ihᵀ + h₋₁·W_hhᵀ; then per row i, f, g, c, o, h in
        // stages. Each gate has its own pointer: an index like `g[h3 + j]` is overflow-checked
        // and keeps its loop scalar.
        u.preActivations(t)
        if vectorCell {
            return LSTMCell.forward(rows: n, hidden: hid, gates: gates, cPrev: cPrev, cell: cell, tanhCell: tanhCell,
                                    h: y, hStride: u.outputStride)
        }
        for b in 0..<n {
            let gi = gates + b * g4, gf = gi + hid, gg = gi + h2, go = gi + h3
            let cp = cPrev + b * hid, c = cell + b * hid, tc = tanhCell + b * hid, h = y + b * u.outputStride
            if peepholes {
                let vi = u.cellValue(0), vf = u.cellValue(1)
                for j in 0..<hid { gi[j] += vi[j] * cp[j]; gf[j] += vf[j] * cp[j] }
            }
            for k in 0..<h2 { gi[k] = RecurrentKernels.sigmoid(gi[k]) }
            for j in 0..<hid { gg[j] = RecurrentKernels.tanh(gg[j]) }
            for j in 0..<hid { c[j] = gf[j] * cp[j] + gi[j] * gg[j] }
            if peepholes {
                let vo = u.cellValue(2)
                for j in 0..<hid { go[j] += vo[j] * c[j] }
            }
            for j in 0..<hid { go[j] = RecurrentKernels.sigmoid(go[j]) }
            for j in 0..<hid { tc[j] = RecurrentKernels.tanh(c[j]) }
            for j in 0..<hid { h[j] = go[j] * tc[j] }
        }
    }

    public func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        let n = u.rows, hid = u.hidden, h2 = 2 * hid, h3 = 3 * hid, g4 = 4 * hid
        let gates = u.gates(t), dG = u.dGates(t), dy = u.dh(t), cPrev = u.cPrev(t)
        let cell = u.aux(0, t), tanhCell = u.aux(1, t), dhCarry = u.dhCarry, dcCarry = u.dcCarry
        if vectorCell {
            LSTMCell.backward(rows: n, hidden: hid, gates: gates, cPrev: cPrev, tanhCell: tanhCell, dy: dy,
                              dyStride: u.outputStride, dhCarry: dhCarry, dcCarry: dcCarry, dGates: dG,
                              gateSums: u.gateSums)
            if propagate { u.gateProduct(dG, into: dhCarry, accumulate: false) }
            return
        }
        for b in 0..<n {
            let gi = gates + b * g4, gf = gi + hid, gg = gi + h2, go = gi + h3
            let di = dG + b * g4, df = di + hid, dg = di + h2, dO = di + h3
            let cp = cPrev + b * hid, c = cell + b * hid, tc = tanhCell + b * hid, o = dy + b * u.outputStride
            let dhc = dhCarry + b * hid, dc = dcCarry + b * hid
            // do, then dc (kept in the c carry) from the carry, h = o ⊙ tanh c and o's peephole.
            for j in 0..<hid {
                let ov = go[j], th = tc[j], dh = o[j] + dhc[j]
                dO[j] = dh * th * ov * (1 - ov)
                dc[j] += dh * ov * (1 - th * th)
            }
            if peepholes {
                let vo = u.cellValue(2), gradO = u.cellGrad(2)
                for j in 0..<hid { dc[j] += vo[j] * dO[j]; gradO[j] += dO[j] * c[j] }
            }
            // di, df, dg from c = f ⊙ c₋₁ + i ⊙ g; the carry becomes dc₋₁. One store per stage:
            // the four stores in one loop were too many overlaps to check, and it ran scalar.
            for j in 0..<hid { di[j] = dc[j] * gg[j] * gi[j] * (1 - gi[j]) }
            for j in 0..<hid { df[j] = dc[j] * cp[j] * gf[j] * (1 - gf[j]) }
            for j in 0..<hid { dg[j] = dc[j] * gi[j] * (1 - gg[j] * gg[j]) }
            for j in 0..<hid { dc[j] *= gf[j] }
            if peepholes {
                let vi = u.cellValue(0), vf = u.cellValue(1), gradI = u.cellGrad(0), gradF = u.cellGrad(1)
                for j in 0..<hid {
                    dc[j] += vi[j] * di[j] + vf[j] * df[j]
                    gradI[j] += di[j] * cp[j]; gradF[j] += df[j] * cp[j]
                }
            }
        }
        // dh₋₁ = dG · W_hh (the h carry was read above, so it is overwritten).
        if propagate { u.gateProduct(dG, into: dhCarry, accumulate: false) }
    }
}
