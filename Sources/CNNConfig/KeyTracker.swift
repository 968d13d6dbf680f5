/// Records, per object path, which keys the config types asked for (in the order asked).
final class KeyTracker {
    private struct Asked {
        var order: [String] = []
        var set: Set<String> = []
        mutating func insert(_ key: String) {
            if set.insert(key).inserted { order.append(key) }
        }
    }
    private var asked: [String: Asked] = [:]

    func register(path: String) {
        if asked[path] == nil { asked[path] = Asked() }
    }

    func register(path: String, asked keys: some Sequence<String>) {
        for key in keys { ask(path: path, key: key) }
    }

    func ask(path: String, key: String) {
        asked[path, default: Asked()].insert(key)
    }

    func askedKeys(path: String) -> Set<String> { asked[path]?.set ?? [] }

    func orderedKeys(path: String) -> [String] { asked[path]?.order ?? [] }

    /// Walks `root` in file order and throws for the first key of a visited object that was
    /// never asked for.
    func checkUnknownKeys(root: JSONValue, path: String, file: String?) throws {
        if asked.isEmpty { return }
        try walk(root, path: path, file: file)
    }

    private func walk(_ value: JSONValue, path: String, file: String?) throws {
        switch value {
        case .object(let object):
            if let known = asked[path] {
                for key in object.keys where !known.set.contains(key) {
                    let valid = known.order
                    let list = valid.isEmpty ? "(none)" : valid.joined(separator: ", ")
                    throw ConfigError(
                        file: file, place: ConfigDecoder.keyPath(path, key: key),
                        message: "unknown key \"\(key)\"; valid keys: \(list)"
                            + Suggestion.hint(for: key, among: valid))
                }
            }
            for (key, child) in object.pairs {
                try walk(child, path: ConfigDecoder.keyPath(path, key: key), file: file)
            }
        case .array(let elements):
            for (i, child) in elements.enumerated() {
                try walk(child, path: ConfigDecoder.keyPath(path, index: i), file: file)
            }
        default:
            break
        }
    }
}
