import CNNCore

/// Elman recurrent layer (Elman 1990; PyTorch `nn.RNN` with its default tanh):
/// `h = tanh(W_ih x + b_ih + W_hh h₋₁ + b_hh)`. `x: [N, T, F] → y: [N, H·dirs]` or
/// `[N, T, H·dirs]` (stacking, directions, initial state and `bptt` as in `RecurrentLayer`);
/// parameters are `torch.nn.RNN`'s, one gate (G = 1).
public typealias SimpleRNN = RecurrentLayer<RNNCell>

extension SimpleRNN {
    public static var registration: LayerRegistration {
        LayerRegistration(
            type: "rnn", summary: "Elman recurrent layer, tanh (PyTorch nn.RNN; stacked, bidirectional)",
            example: LayerExample(["hidden": 4, "return_sequences": true, "initial_state": "learned"],
                                  inputs: [[4, 3]])
        ) { context in try SimpleRNN(context.decode(Config.self), context: &context) }
    }
}

/// An Elman step, `h = tanh(pre-activations)`. Per step it keeps h (in the gate buffer).
public struct RNNCell: RecurrentCell {
    /// No keys beyond the shared ones.
    public struct Options: Decodable, Sendable {}

    public static let type = "rnn"
    public static let gateNames = ["h"]
    public static let stateCount = 1
    public static let auxPlanes = 0

    public init(_ options: Options, hidden: Int, context: inout LayerBuildContext) throws {}

    public func forwardStep(_ u: RecurrentUnit, t: Int) {
        let n = u.rows, hid = u.hidden, (hp, ld) = u.hPrev(t), gates = u.gates(t), s = u.scratch
        let bias = u.biasHH, y = u.h(t)
        u.hiddenProduct(hp, lda: ld, into: s)
        for b in 0..<n {
            let g = gates + b * hid
            RecurrentKernels.tanh(g, plus: s + b * hid, bias, count: hid)
            (y + b * u.outputStride).update(from: g, count: hid)
        }
    }

    public func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        let n = u.rows, hid = u.hidden, gates = u.gates(t), dG = u.dGates(t), dy = u.dh(t)
        let carry = u.dhCarry
        for b in 0..<n {
            let g = gates + b * hid, d = dG + b * hid, o = dy + b * u.outputStride, c = carry + b * hid
            for j in 0..<hid { d[j] = (o[j] + c[j]) * (1 - g[j] * g[j]) }
        }
        // dh₋₁ = dG · W_hh
        if propagate { u.gateProduct(dG, into: carry, accumulate: false) }
    }
}
