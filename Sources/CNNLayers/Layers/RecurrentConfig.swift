import CNNConfig
import CNNCore

/// How a recurrent layer's state starts: zeros (PyTorch's default) or learned vectors, one per
/// layer and direction, shared by all samples.
public enum RecurrentInitialState: String, ConfigEnum, Sendable {
    case zero, learned
}

/// PyTorch's two bias vectors per layer and direction (`bias_ih`, `bias_hh`), or Keras' one.
public enum RecurrentBias: String, ConfigEnum, Sendable {
    case double, single
}

/// The keys every recurrent layer reads; the cell's own keys (`Options`) come from the same object.
public struct RecurrentConfig<Options: Decodable & Sendable>: Decodable, Sendable {
    /// Their documentation, before each cell's own keys in its registration.
    static var documentedKeys: [ConfigKey] {
        [
            ConfigKey("hidden", "int", "State size H per direction (PyTorch `hidden_size`)."),
            ConfigKey("layers", "int", default: "1", "Stacked layers, each reading the previous one's [T, H·dirs] output "
                      + "(PyTorch `num_layers`)."),
            ConfigKey("bidirectional", "bool", default: "false",
                      "Adds a backward direction; the directions' states are concatenated, forward first."),
            ConfigKey("return_sequences", "bool", default: "false",
                      "Outputs every step's state, [T, H·dirs] (PyTorch's `output`), instead of the final "
                      + "states [H·dirs] (`h_n`)."),
            ConfigKey("dropout", "number in [0, 1)", default: "0",
                      "Inverted dropout on the output of every layer but the last, in training; needs layers ≥ 2."),
            ConfigKey("initial_state", "\"zero\" | \"learned\"", default: "\"zero\"",
                      "The state before the first step: zeros, or learned vectors per layer and direction "
                      + "(`h0_l{k}`, and `c0_l{k}` for an LSTM)."),
            ConfigKey("bias", "\"double\" | \"single\"", default: "\"double\"",
                      "PyTorch's two bias vectors `bias_ih` and `bias_hh`, or one (`bias_ih` only, as Keras): the "
                      + "same model for an LSTM or RNN, whose b_hh only adds to b_ih, with G·H fewer parameters per "
                      + "layer and direction (a GRU's b_hn is gated by r, so it keeps two)."),
            ConfigKey("bptt", "int", default: "none",
                      "Truncated back-propagation through time: steps in blocks of K, no gradient into the state "
                      + "entering a block (PyTorch's h.detach() every K steps)."),
        ]
    }

    var hidden: Int
    var layers: Int?
    var bidirectional: Bool?
    var returnSequences: Bool?
    var dropout: Float?
    var initialState: RecurrentInitialState?
    var bptt: Int?
    var bias: RecurrentBias?
    var options: Options

    private enum CodingKeys: String, CodingKey {
        case hidden, layers, bidirectional, returnSequences = "return_sequences", dropout
        case initialState = "initial_state", bptt, bias
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hidden = try c.decode(Int.self, forKey: .hidden)
        layers = try c.decodeIfPresent(Int.self, forKey: .layers)
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional)
        returnSequences = try c.decodeIfPresent(Bool.self, forKey: .returnSequences)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout)
        initialState = try c.decodeIfPresent(RecurrentInitialState.self, forKey: .initialState)
        bptt = try c.decodeIfPresent(Int.self, forKey: .bptt)
        bias = try c.decodeIfPresent(RecurrentBias.self, forKey: .bias)
        options = try Options(from: decoder)
    }
}
