import CNNConfig
import CNNLayers

/// `count` copies of one entry (a layer or a block), each reading the previous copy's output,
/// named by index (`layer2.0`, `layer2.1`, as torchvision names them). `first` overrides keys
/// of the first copy only (typically `"stride": 2`); `overrides` gives per-copy overrides
/// (`null` for none). A dotted key reaches inside the body: `"conv2.stride": 2` sets `stride`
/// of the entry named `conv2` anywhere in it (a residual's or a branch's layers), so a stage
/// whose first block differs is still one `repeat`.
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
                      "Keys that replace the body's in the first copy only, typically {\"stride\": 2}; a dotted "
                      + "key reaches a named entry inside the body: {\"conv2.stride\": 2, \"shortcut\": \"projection\"}."),
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
                for (k, v) in o.pairs {
                    try setKey(k.split(separator: ".", omittingEmptySubsequences: false).map(String.init), to: v,
                               in: &copy, place: "\(entry.path).\(key).\(k)", file: file)
                }
                path += " (copy \(i) with \(key))"
            }
            if i == 0 { try merge(c.first, "first") }
            try merge(c.overrides?[i], "overrides[\(i)]")
            copy["name"] = .string("\(i)")
            current = try builder.add(.object(copy), path: path, input: current, prefix: entry.name + ".", index: i)
        }
        return current
    }

    /// Sets `path`'s last key in the entry named by the components before it, found anywhere
    /// inside `object` (one match, else an error listing the names there are).
    private static func setKey(_ path: [String], to value: JSONValue, in object: inout JSONObject, place: String,
                               file: String?) throws {
        guard path.count > 1 else { object[path[0]] = value; return }
        var matches = 0, names: [String] = []
        func visit(_ v: inout JSONValue) throws {
            switch v {
            case .object(var o):
                if o["name"]?.stringValue == path[0] {
                    matches += 1
                    if matches == 1 { try setKey(Array(path.dropFirst()), to: value, in: &o, place: place, file: file) }
                } else {
                    if let n = o["name"]?.stringValue { names.append(n) }
                    for k in o.keys where k != "name" { var child = o[k]!; try visit(&child); o[k] = child }
                }
                v = .object(o)
            case .array(var items):
                for i in items.indices { try visit(&items[i]) }
                v = .array(items)
            default:
                break
            }
        }
        for k in object.keys { var child = object[k]!; try visit(&child); object[k] = child }
        guard matches == 1 else {
            throw ConfigError(file: file, place: place, message: matches == 0
                              ? "no entry named \"\(path[0])\" inside the body" + Suggestion.hint(for: path[0], among: names)
                              + (names.isEmpty ? "" : "; named entries: " + names.joined(separator: ", "))
                              : "\(matches) entries inside the body are named \"\(path[0])\"")
        }
    }
}
