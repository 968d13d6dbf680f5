import CNNConfig
import CNNCore

/// How a recurrent layer's state starts: zeros (PyTorch's default) or learned vectors, one per
/// layer and direction, shared by all samples.
public enum RecurrentInitialState: String, ConfigEnum, Sendable {
    case zero, learned
}

/// The keys every recurrent layer reads; the cell's own keys (`Options`) come from the same object.
public struct RecurrentConfig<Options: Decodable & Sendable>: Decodable, Sendable {
    var hidden: Int
    var layers: Int?
    var bidirectional: Bool?
    var return_sequences: Bool?
    var dropout: Float?
    var initial_state: RecurrentInitialState?
    var bptt: Int?
    var options: Options

    private enum CodingKeys: String, CodingKey {
        case hidden, layers, bidirectional, return_sequences, dropout, initial_state, bptt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hidden = try c.decode(Int.self, forKey: .hidden)
        layers = try c.decodeIfPresent(Int.self, forKey: .layers)
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional)
        return_sequences = try c.decodeIfPresent(Bool.self, forKey: .return_sequences)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout)
        initial_state = try c.decodeIfPresent(RecurrentInitialState.self, forKey: .initial_state)
        bptt = try c.decodeIfPresent(Int.self, forKey: .bptt)
        options = try Options(from: decoder)
    }
}
