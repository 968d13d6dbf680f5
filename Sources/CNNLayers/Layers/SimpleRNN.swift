import CNNCore

/// Elman recurrent layer (Elman 1990; PyTorch `nn.RNN` with its default tanh):
/// `h = tanh(W_ih x + b_ih + W_hh h₋₁ + b_hh)`. `x: [N, T, F] → y: [N, H·dirs]` or
/// `[N, T, H·dirs]` (stacking, directions, initial state and `bptt` as in `RecurrentLayer`);
/// parameters are `torch.nn.RNN`'s, one gate (G = 1). Per step it keeps h (in the gate buffer).
public final class SimpleRNN: RecurrentLayer {
    /// No keys beyond the shared ones.
    public struct Options: Decodable, Sendable {}
    public typealias Config = RecurrentConfig<Options>

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        try super.init(c, type: "rnn", gates: ["h"], auxPlanes: 0, context: &context)
    }

    override func forwardStep(_ u: RecurrentUnit, t: Int) {
        let n = u.rows, hid = hidden, (hp, ld) = u.hPrev(t), gates = u.gates(t), s = u.scratch
        let bias = u.biasHH, y = u.h(t)
        u.hiddenProduct(hp, lda: ld, into: s)
        for b in 0..<n {
            let g = gates + b * hid
            Self.tanh(g, plus: s + b * hid, bias, count: hid)
            (y + b * u.outputStride).update(from: g, count: hid)
        }
    }

    override func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        let n = u.rows, hid = hidden, gates = u.gates(t), dG = u.dGates(t), dy = u.dh(t)
        let carry = u.dhCarry
        for b in 0..<n {
            let g = gates + b * hid, d = dG + b * hid, o = dy + b * u.outputStride, c = carry + b * hid
            for j in 0..<hid { d[j] = (o[j] + c[j]) * (1 - g[j] * g[j]) }
        }
        // dh₋₁ = dG · W_hh
        if propagate { u.gateProduct(dG, into: carry, accumulate: false) }
    }

    public static let registration = LayerRegistration(
        type: "rnn", summary: "Elman recurrent layer, tanh (PyTorch nn.RNN; stacked, bidirectional)",
        example: LayerExample(["hidden": 4, "return_sequences": true, "initial_state": "learned"],
                              inputs: [[4, 3]])
    ) { context in try SimpleRNN(context.decode(Config.self), context: &context) }
}
