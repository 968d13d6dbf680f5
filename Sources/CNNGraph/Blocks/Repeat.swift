import CNNConfig
import CNNLayers

/// `count` copies of one entry (a layer or a block), each reading the previous copy's output,
/// named by index (`layer2.0`, `layer2.1`, as torchvision names them). `first` overrides keys
/// of the first copy only (typically `"stride": 2`); `overrides` gives per-copy overrides
/// (`null` for none).
enum Repeat: Block {
    static let type = "repeat"
    static let registration = BlockRegistration(
        type: type, summary: "count copies of a layer or block, with per-copy overrides",
        keys: [
            ConfigKey("body", "layer or block entry",
                      "The entry copied, without \"name\": copies are named by index "
                      + "(`stage.0`, `stage.1`), each reading the previous copy's output."),
            ConfigKey("count", "int", "Number of copies, 1 to 10000."),
            ConfigKey("first", "object", default: "none",
                      "Keys that replace the body's in the first copy only, typically {\"stride\": 2}."),
            ConfigKey("overrides", "list of objects or nulls", default: "none",
                      "Keys that replace the body's per copy, one entry per copy (null for none), applied "
                      + "after `first`."),
        ],
        example: BlockExample(["count": 2, "body": ["type": "conv2d", "filters": 3, "kernel": 3, "padding": 1], "first": ["stride": 2]],
                              input: [2, 6, 6])
    ) { entry, input, builder in try expand(entry, input: input, builder: &builder) }

    static let maximumCount = 10_000

    struct Config: Decodable {
        var count: Int
        var first: JSONValue?
        var overrides: [JSONValue]?
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        var entry = entry
        let file = builder.file
        let value = entry.take("body")
        guard case .object(let body)? = value else {
            throw entry.error(value == nil ? "missing required key \"body\""
                              : "expected one layer or block object (group several with \"sequential\")",
                              key: value == nil ? nil : "body", file: file)
        }
        let c = try entry.decode(Config.self, file: file)
        guard (1...maximumCount).contains(c.count) else {
            throw entry.error("must be in 1...\(maximumCount), got \(c.count)", key: "count", file: file)
        }
        if body["name"] != nil {
            throw entry.error("copies are named by their index; remove \"name\"", key: "body.name", file: file)
        }
        if let o = c.overrides, o.count != c.count {
            throw entry.error("has \(o.count) entries for \(c.count) copies", key: "overrides", file: file)
        }
        var current = input
        for i in 0..<c.count {
            var copy = body
            var path = "\(entry.path).body"
            func merge(_ value: JSONValue?, _ key: String) throws {
                guard let value, value != .null else { return }
                guard case .object(let o) = value else {
                    throw entry.error("expected an object of keys to override", key: key, file: file)
                }
                for (k, v) in o.pairs { copy[k] = v }
                path += " (copy \(i) with \(key))"
            }
            if i == 0 { try merge(c.first, "first") }
            try merge(c.overrides?[i], "overrides[\(i)]")
            copy["name"] = .string("\(i)")
            current = try builder.add(.object(copy), path: path, input: current, prefix: entry.name + ".", index: i)
        }
        return current
    }
}
