import CNNLayers

/// Every type name a config entry may use, primitive layers (`LayerRegistry`) and composite
/// blocks (`BlockRegistry`) alike, each under one name: the graph builder, `cnnctl layers` and
/// the config reference all look types up here. Two registrations of one name would leave one
/// of them unreachable, so they stop the program the first time the registry is read (a test
/// reads it).
public enum Registry {
    public enum Kind: Sendable {
        case layer(LayerRegistration)
        case block(BlockRegistration)
    }

    public struct Entry: Sendable {
        public let type: String
        public let summary: String
        public let kind: Kind

        public var isBlock: Bool { if case .block = kind { true } else { false } }
        /// `type` with `(block)` after a block's.
        public var title: String { isBlock ? "\(type) (block)" : type }
    }

    /// Every entry, sorted by type name.
    public static let entries: [Entry] = {
        let all = LayerRegistry.all.map { Entry(type: $0.type, summary: $0.summary, kind: .layer($0)) }
            + BlockRegistry.all.map { Entry(type: $0.type, summary: $0.summary, kind: .block($0)) }
        let repeated = duplicates(all.map(\.type))
        precondition(repeated.isEmpty, "registered twice: \(repeated.joined(separator: ", "))")
        return all.sorted { $0.type < $1.type }
    }()

    private static let byType = Dictionary(uniqueKeysWithValues: entries.map { ($0.type, $0) })

    public static func entry(for type: String) -> Entry? { byType[type] }

    public static var typeNames: [String] { entries.map(\.type) }

    /// The names that occur more than once, in first-occurrence order.
    static func duplicates(_ names: [String]) -> [String] {
        var seen: Set<String> = [], repeated: [String] = []
        for name in names where !seen.insert(name).inserted && !repeated.contains(name) { repeated.append(name) }
        return repeated
    }
}
