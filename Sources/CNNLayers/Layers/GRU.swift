import CNNCore

/// Gated recurrent unit (Cho et al. 2014), gates `r, z, n` in PyTorch's order and layout.
/// `x: [N, T, F] → y: [N, H·dirs]` or `[N, T, H·dirs]`; stacking, directions, initial state and
/// `bptt` as in `RecurrentLayer`.
public typealias GRU = RecurrentLayer<GRUCell>

extension GRU {
    public var resetAfter: Bool { cell.resetAfter }

    public static var registration: LayerRegistration {
        LayerRegistration(
            type: Cell.type,
            summary: "gated recurrent unit (PyTorch nn.GRU; stacked, bidirectional, reset_after)",
            keys: Config.documentedKeys + [
                ConfigKey("reset_after", "bool", default: "true",
                          "true: PyTorch's, cuDNN's and Keras' form, n = tanh(W_in x + b_in + r ⊙ (W_hn h₋₁ + b_hn)); "
                          + "false: the reset before the product, and z weighting the new state."),
            ],
            example: LayerExample(["hidden": 3, "layers": 2, "bidirectional": true,
                                   "return_sequences": true, "dropout": 0.3], inputs: [[4, 5]])
        ) { context in try GRU(context.decode(Config.self), context: &context) }
    }
}

/// A GRU step. Two variants, `reset_after`:
///
/// - `true` (default), PyTorch `nn.GRU`, cuDNN, Keras `reset_after=True`: the reset scales the
///   recurrent product, and z keeps the old state (Cho et al.'s and PyTorch's convention):
///   `r = σ(W_ir x + b_ir + W_hr h₋₁ + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h₋₁ + b_hz)`,
///   `n = tanh(W_in x + b_in + r ⊙ (W_hn h₋₁ + b_hn))`, `h = (1 − z) ⊙ n + z ⊙ h₋₁`.
///   Names, shapes and row order are `torch.nn.GRU`'s: its `state_dict` maps 1:1 both ways.
/// - `false`, the lecture form (Chung et al. 2014): the reset scales the state before `W_hn`,
///   and z takes the new state, the opposite of PyTorch's convention: `r`, `z` as above,
///   `ĥ = tanh(W_in x + b_in + W_hn (r ⊙ h₋₁) + b_hn)`, `h = (1 − z) ⊙ h₋₁ + z ⊙ ĥ`. Same names
///   and layouts, `b_in + b_hn` acting as one bias; since `1 − σ(a) = σ(−a)`, negating the z rows
///   of both weights and both biases gives the z-keeps-old convention (Keras
///   `reset_after=False`). Each step needs two recurrent sgemms, as `r` must be known before
///   `W_hn` is applied; that is why cuDNN and PyTorch chose the other form.
///
/// Per step it keeps `r, z, n` and `W_hn h₋₁ + b_hn` (reset after) or `r ⊙ h₋₁` (before).
public struct GRUCell: RecurrentCell {
    public struct Options: Decodable, Sendable {
        var resetAfter: Bool?

        private enum CodingKeys: String, CodingKey { case resetAfter = "reset_after" }
    }

    public static let type = "gru"
    public static let gateNames = ["r", "z", "n"]
    public static let stateCount = 1
    public static let auxPlanes = 1
    public static let recurrentBiasFolds = false

    public let resetAfter: Bool

    public init(_ options: Options, hidden: Int, context: inout LayerBuildContext) throws {
        resetAfter = options.resetAfter ?? true
    }

    public func details(hidden: Int) -> String? {
        resetAfter ? "reset after W_hn (PyTorch)" : "reset before W_hn (h = (1 − z)·h₋₁ + z·ĥ)"
    }

    /// Reset after: `dGh`, the gradient of `h₋₁ · W_hhᵀ + b_hh`, differs from dG in its n part.
    public var separateRecurrentGradients: Bool { resetAfter }

    /// Reset before: `W_hr, W_hz` multiply h₋₁ but `W_hn` multiplies the kept `r ⊙ h₋₁`.
    public var recurrentGradientIsPlain: Bool { resetAfter }

    public func forwardStep(_ u: RecurrentUnit, t: Int) {
        let n = u.rows, hid = u.hidden, h2 = 2 * hid, g3 = 3 * hid, (hp, ld) = u.hPrev(t)
        let gates = u.gates(t), s = u.scratch, bias = u.biasHH, y = u.h(t), keep = u.aux(0, t)
        if resetAfter {
            // [N, 3H] = h₋₁ · W_hhᵀ; per row r, z, a = W_hn h₋₁ + b_hn, n, h = n + z(h₋₁ − n).
            u.hiddenProduct(hp, lda: ld, into: s)
            // Per-gate pointers: an index like `g[h2 + j]` is overflow-checked and keeps a loop scalar.
            let bn = bias + h2
            for b in 0..<n {
                let g = gates + b * g3, gn = g + h2, sr = s + b * g3, sn = sr + h2, a = keep + b * hid
                RecurrentKernels.sigmoid(g, plus: sr, bias, count: h2)
                for j in 0..<hid { a[j] = sn[j] + bn[j] }
                for j in 0..<hid { gn[j] = RecurrentKernels.tanh(gn[j] + g[j] * a[j]) }
                RecurrentKernels.blend(y + b * u.outputStride, gn, hp + b * ld, weight: g + hid, count: hid)
            }
            return
        }
        // r, z from h₋₁ · W_hrzᵀ; ĥ from (r ⊙ h₋₁) · W_hnᵀ; h = h₋₁ + z(ĥ − h₋₁).
        gemm(transB: true, m: n, n: h2, k: hid, a: hp, lda: ld, b: u.weightHH, c: s, ldc: g3)
        for b in 0..<n {
            let g = gates + b * g3, h0 = hp + b * ld, rh = keep + b * hid
            RecurrentKernels.sigmoid(g, plus: s + b * g3, bias, count: h2)
            for j in 0..<hid { rh[j] = g[j] * h0[j] }
        }
        gemm(transB: true, m: n, n: hid, k: hid, a: keep, b: u.weightHH + h2 * hid, c: s + h2, ldc: g3)
        for b in 0..<n {
            let g = gates + b * g3
            RecurrentKernels.tanh(g + h2, plus: s + b * g3 + h2, bias + h2, count: hid)
            RecurrentKernels.blend(y + b * u.outputStride, hp + b * ld, g + h2, weight: g + hid, count: hid)
        }
    }

    public func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        let n = u.rows, hid = u.hidden, h2 = 2 * hid, g3 = 3 * hid, (hp, ld) = u.hPrev(t)
        let gates = u.gates(t), dG = u.dGates(t), dy = u.dh(t), carry = u.dhCarry, keep = u.aux(0, t)
        if resetAfter {
            // dGh: the gradient of h₋₁ · W_hhᵀ + b_hh, whose n part enters through r.
            let dGh = u.dRecurrent(t)
            for b in 0..<n {
                let gr = gates + b * g3, gz = gr + hid, gn = gr + h2
                let dr = dG + b * g3, dz = dr + hid, dn = dr + h2, er = dGh + b * g3, en = er + h2
                let h0 = hp + b * ld, a = keep + b * hid, c = carry + b * hid, o = dy + b * u.outputStride
                // One store per stage (as in `LSTMMemoryCell.backwardStep`); each stage forms dh = o + c
                // again until the carry's own stage replaces c with dh₋₁'s direct part.
                for j in 0..<hid { dn[j] = (o[j] + c[j]) * (1 - gz[j]) * (1 - gn[j] * gn[j]) }
                for j in 0..<hid { dz[j] = (o[j] + c[j]) * (h0[j] - gn[j]) * gz[j] * (1 - gz[j]) }
                for j in 0..<hid { c[j] = (o[j] + c[j]) * gz[j] }
                for j in 0..<hid { dr[j] = dn[j] * a[j] * gr[j] * (1 - gr[j]) }
                for j in 0..<hid { en[j] = dn[j] * gr[j] }
                er.update(from: dr, count: h2)
            }
            // dh₋₁ += dGh · W_hh
            if propagate { u.gateProduct(dGh, into: carry, accumulate: true) }
            return
        }
        for b in 0..<n {
            let gz = gates + b * g3 + hid, gn = gz + hid, dz = dG + b * g3 + hid, dn = dz + hid
            let h0 = hp + b * ld, c = carry + b * hid, o = dy + b * u.outputStride
            for j in 0..<hid { dz[j] = (o[j] + c[j]) * (gn[j] - h0[j]) * gz[j] * (1 - gz[j]) }
            for j in 0..<hid { dn[j] = (o[j] + c[j]) * gz[j] * (1 - gn[j] * gn[j]) }
            for j in 0..<hid { c[j] = (o[j] + c[j]) * (1 - gz[j]) }
        }
        // d(r ⊙ h₋₁) = dĥ · W_hn gives r's gradient and the path to h₋₁ through r ⊙ h₋₁.
        let drh = u.scratch
        gemm(m: n, n: hid, k: hid, a: dG + h2, lda: g3, b: u.weightHH + h2 * hid, c: drh)
        for b in 0..<n {
            let g = gates + b * g3, d = dG + b * g3, h0 = hp + b * ld, c = carry + b * hid
            let e = drh + b * hid
            for j in 0..<hid {
                let r = g[j]
                d[j] = e[j] * h0[j] * r * (1 - r)
                c[j] += e[j] * r
            }
        }
        // dh₋₁ += [dr, dz] · [W_hr; W_hz]
        if propagate { gemm(m: n, n: hid, k: h2, a: dG, lda: g3, b: u.weightHH, beta: 1, c: carry) }
    }

    /// Reset after: `Σ dGh(t)ᵀ · h₋₁(t)`. Reset before: the r and z rows from h₋₁, the n rows from
    /// the kept `r ⊙ h₋₁`.
    public func addRecurrentWeightGradients(_ u: RecurrentUnit) {
        let hid = u.hidden, rows = u.steps * u.batch
        guard !resetAfter else { return u.addStateProduct(u.dRecurrent(0), rows: 3 * hid, into: u.weightHHGrad) }
        u.addStateProduct(u.dGates(0), rows: 2 * hid, into: u.weightHHGrad)
        gemmAcrossParts(transA: true, m: hid, n: hid, k: rows, a: u.dGates(0) + 2 * hid, lda: 3 * hid,
             b: u.aux(0, 0), beta: 1, c: u.weightHHGrad + 2 * hid * hid, pool: u.pool)
    }
}
