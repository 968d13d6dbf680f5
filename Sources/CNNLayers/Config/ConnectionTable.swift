import CNNConfig

/// Which input maps each output map of a convolution sees: a named table or an explicit list
/// (`[[0, 1, 2], [1, 2, 3], …]`, one entry per filter).
public enum ConnectionTable: Decodable, Sendable, Equatable {
    case named(String)
    case explicit([[Int]])

    /// LeNet-5's C3 (LeCun et al. 1998, Table I): maps 0–5 see 3 contiguous S2 maps, 6–11 see 4
    /// contiguous, 12–14 see 4 non-contiguous, 15 sees all 6: 60 kernels, 1,516 parameters.
    public static let lenet5C3: [[Int]] = [
        [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
        [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
        [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
        [0, 1, 2, 3, 4, 5],
    ]
    static let names = ["lenet5_c3": lenet5C3]

    public init(from decoder: Decoder) throws {
        switch decoder.jsonValue {
        case .string(let s)?:
            self = .named(s)
        case .array(let rows)?:
            var table: [[Int]] = []
            for row in rows {
                guard case .array(let items) = row else { throw decoder.configError("each entry must be a list of input map indices") }
                table.append(try items.map {
                    guard case .int(let v) = $0 else { throw decoder.configError("input map indices must be integers") }
                    return v
                })
            }
            self = .explicit(table)
        default:
            throw decoder.configError("expected a table name (\(Self.names.keys.sorted().joined(separator: ", "))) or a list of lists of input maps")
        }
    }

    /// The table, checked against the layer: one entry per filter, valid distinct map indices.
    func resolve(filters: Int, channels: Int, context: LayerBuildContext) throws -> [[Int]] {
        let table: [[Int]]
        switch self {
        case .named(let n):
            guard let t = Self.names[n] else {
                throw context.error("unknown table \"\(n)\"; known: \(Self.names.keys.sorted().joined(separator: ", "))"
                                    + Suggestion.hint(for: n, among: Array(Self.names.keys)), key: "connections")
            }
            table = t
        case .explicit(let t):
            table = t
        }
        guard table.count == filters else {
            throw context.error("has \(table.count) entries (one per output map) but the layer has \(filters) filters", key: "connections")
        }
        for (f, maps) in table.enumerated() {
            guard !maps.isEmpty, Set(maps).count == maps.count, maps.allSatisfy({ (0..<channels).contains($0) }) else {
                throw context.error("entry \(f) must list distinct input maps in 0..<\(channels), got \(maps)", key: "connections[\(f)]")
            }
        }
        return table
    }
}
