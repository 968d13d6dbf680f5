import CNNConfig
import CNNCore

/// Elman recurrent layer (Elman 1990; PyTorch `nn.RNN`):
/// `h = tanh(W_ih x + b_ih + W_hh h₋₁ + b_hh)`, or with `nonlinearity: relu` (PyTorch's key and
/// values, tanh by default) `h = max(0, …)`. `x: [N, T, F] → y: [N, H·dirs]` or
/// `[N, T, H·dirs]` (stacking, directions, initial state and `bptt` as in `RecurrentLayer`);
/// parameters are `torch.nn.RNN`'s, one gate (G = 1).
public typealias SimpleRNN = RecurrentLayer<RNNCell>

extension SimpleRNN {
    public static var registration: LayerRegistration {
        LayerRegistration(
            type: Cell.type,
            summary: "Elman recurrent layer, tanh or relu (PyTorch nn.RNN; stacked, bidirectional)",
            keys: Config.documentedKeys + [
                ConfigKey("nonlinearity", "\"tanh\" | \"relu\"", default: "\"tanh\"",
                          "The step's function, h = f(W_ih x + b_ih + W_hh h₋₁ + b_hh) (PyTorch's key)."),
            ],
            example: LayerExample(["hidden": 4, "return_sequences": true, "initial_state": "learned"],
                                  inputs: [[4, 3]])
        ) { context in try SimpleRNN(context.decode(Config.self), context: &context) }
    }
}

/// An Elman step, `h = tanh(pre-activations)` or `max(0, …)`. Per step it keeps h (in the gate
/// buffer), from which backward takes the derivative: `1 − h²`, or 1 where h > 0 and 0 elsewhere.
public struct RNNCell: RecurrentCell {
    public enum Nonlinearity: String, ConfigEnum, Sendable {
        case tanh, relu
    }

    public struct Options: Decodable, Sendable {
        var nonlinearity: Nonlinearity?
    }

    public static let type = "rnn"
    public static let gateNames = ["h"]
    public static let stateCount = 1
    public static let auxPlanes = 0
    public static let recurrentBiasFolds = true

    public let nonlinearity: Nonlinearity

    public init(_ options: Options, hidden: Int, context: inout LayerBuildContext) throws {
        nonlinearity = options.nonlinearity ?? .tanh
    }

    /// Only the non-default nonlinearity is named.
    public func details(hidden: Int) -> String? { nonlinearity == .relu ? "relu" : nil }

    public func forwardStep(_ u: RecurrentUnit, t: Int) {
        let n = u.rows, hid = u.hidden, (hp, ld) = u.hPrev(t), gates = u.gates(t), s = u.scratch
        let bias = u.biasHH, y = u.h(t), relu = nonlinearity == .relu
        u.hiddenProduct(hp, lda: ld, into: s)
        for b in 0..<n {
            let g = gates + b * hid
            if relu {
                RecurrentKernels.relu(g, plus: s + b * hid, bias, count: hid)
            } else {
                RecurrentKernels.tanh(g, plus: s + b * hid, bias, count: hid)
            }
            (y + b * u.outputStride).update(from: g, count: hid)
        }
    }

    public func backwardStep(_ u: RecurrentUnit, t: Int, propagate: Bool) {
        let n = u.rows, hid = u.hidden, gates = u.gates(t), dG = u.dGates(t), dy = u.dh(t)
        let carry = u.dhCarry, relu = nonlinearity == .relu
        for b in 0..<n {
            let g = gates + b * hid, d = dG + b * hid, o = dy + b * u.outputStride, c = carry + b * hid
            if relu {
                for j in 0..<hid { d[j] = g[j] > 0 ? o[j] + c[j] : 0 }
            } else {
                for j in 0..<hid { d[j] = (o[j] + c[j]) * (1 - g[j] * g[j]) }
            }
        }
        // dh₋₁ = dG · W_hh
        if propagate { u.gateProduct(dG, into: carry, accumulate: false) }
    }
}
