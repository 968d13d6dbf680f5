import CNNConfig
import CNNLayers

/// `count` copies of one entry (a layer or a block), each reading the previous copy's output,
/// named by index (`layer2.0`, `layer2.1`, as torchvision names them). `first` overrides keys
/// of the first copy only (typically `"stride": 2`); `overrides` gives per-copy overrides
/// (`null` for none).
enum Repeat: Block {
    static let type = "repeat"
    static let summary = "count copies of a layer or block, with per-copy overrides"

    static let maximumCount = 10_000

    struct Config: Decodable {
        var count: Int
        var first: JSONValue?
        var overrides: [JSONValue]?
    }

    static func expand(_ entry: BlockEntry, input: Int, builder: inout GraphBuilder) throws -> Int {
        var entry = entry
        let file = builder.file
        guard case .object(let body)? = entry.config["body"] else {
            throw entry.error(entry.config["body"] == nil ? "missing required key \"body\""
                              : "expected one layer or block object (group several with \"sequential\")",
                              key: entry.config["body"] == nil ? nil : "body", file: file)
        }
        entry.config["body"] = nil
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
