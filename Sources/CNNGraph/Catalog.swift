import CNNLayers

/// Every type name a config entry may use (primitive layers and composite blocks), for listings.
public enum Catalog {
    public static var entries: [(type: String, summary: String)] {
        (LayerRegistry.all.map { ($0.type, $0.summary) } + BlockRegistry.all.map { ($0.type, "block: " + $0.summary) })
            .sorted { $0.0 < $1.0 }
    }
}
