import CNNLayers

/// A named group of layers (`"layers": [...]`), like torch.nn.Sequential: node names get the
/// group's name as prefix (`classifier.fc1`). Useful for heads that branch off the trunk
/// (GoogLeNet's auxiliary classifiers) and for folding in `summarize --depth`.
enum Sequential: Block {
    static let type = "sequential"
    static let registration = BlockRegistration(
        type: type, summary: "a named group of layers applied in order",
        keys: [
            ConfigKey("layers", "list of layer entries",
                      "The layers and blocks, applied in order, each reading the previous one's output; "
                      + "node names get the block's name as prefix (`head.fc1`)."),
        ],
        example: BlockExample(["layers": [["type": "conv2d", "filters": 2, "kernel": 3], ["type": "relu"]]],
                              input: [1, 5, 5])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        var entry = entry
        let layers = try entry.takeEntries("layers", file: builder.file)!
        _ = try entry.decode(Empty.self, file: builder.file)
        return try builder.addSequence(layers, input: input, prefix: entry.name + ".")
    }

    struct Empty: Decodable {}
}
