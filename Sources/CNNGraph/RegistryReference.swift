import CNNConfig
import CNNCore
import CNNLayers
import Foundation

/// The registry as a reference: one type's keys and example for `cnnctl layers TYPE`, and every
/// type as Markdown for docs/CONFIG.md (`cnnctl layers --markdown`), from the registrations
/// themselves, so the reference says what the code reads.
public enum RegistryReference {
    /// `type`'s summary, keys and an example entry that builds, as plain text; nil for an
    /// unknown type.
    public static func text(for type: String) -> String? {
        guard let entry = Registry.entry(for: type) else { return nil }
        let keys = keys(of: entry)
        var s = "\(entry.title): \(entry.summary)\n\n"
        if keys.isEmpty {
            s += "keys: none besides type, name, inputs and activation\n"
        } else {
            let rows = [("key", "type", "default", "meaning")]
                + keys.map { ($0.name, $0.type, $0.defaultValue ?? "required", $0.meaning) }
            let widths = (rows.map(\.0.count).max()!, rows.map(\.1.count).max()!, rows.map(\.2.count).max()!)
            for row in rows {
                s += pad(row.0, widths.0) + "  " + pad(row.1, widths.1) + "  " + pad(row.2, widths.2) + "  " + row.3 + "\n"
            }
        }
        let (example, input) = self.example(of: entry)
        return s + "\nexample (input \(input)):\n  \(example.compact)\n"
    }

    /// Every layer and block type, sorted by name: a section each with its summary, a key table
    /// and an example.
    public static func markdown() -> String {
        var s = ""
        for entry in Registry.entries {
            s += "### `\(entry.type)`\(entry.isBlock ? " (block)" : "")\n\n\(entry.summary.prefix(1).uppercased() + entry.summary.dropFirst()).\n\n"
            let keys = keys(of: entry)
            if keys.isEmpty {
                s += "No keys besides `type`, `name`, `inputs` and `activation`.\n\n"
            } else {
                s += "| key | type | default | meaning |\n|---|---|---|---|\n"
                for k in keys {
                    let value = k.defaultValue.map { "`\($0)`" } ?? "required"
                    s += "| `\(k.name)` | \(cell(k.type)) | \(cell(value)) | \(cell(k.meaning)) |\n"
                }
                s += "\n"
            }
            let (example, input) = self.example(of: entry)
            s += "Example, on \(input.contains(" and ") ? "inputs" : "an input") of \(input):\n\n```json\n\(example.compact)\n```\n\n"
        }
        return s
    }

    static func keys(of entry: Registry.Entry) -> [ConfigKey] {
        switch entry.kind {
        case .layer(let r): r.keys
        case .block(let b): b.keys
        }
    }

    /// The registration's example as a whole entry (`type` first), and its input shapes.
    static func example(of entry: Registry.Entry) -> (JSONValue, String) {
        let (config, inputs): (JSONValue, [Shape])
        switch entry.kind {
        case .layer(let r): (config, inputs) = (r.example.config, r.example.inputs)
        case .block(let b): (config, inputs) = (b.example.config, [b.example.input])
        }
        let input = inputs.map { "\($0)" }.joined(separator: " and ")
        var object = JSONObject([("type", .string(entry.type))])
        if case .object(let keys) = config { for (key, value) in keys.pairs { object[key] = value } }
        return (.object(object), input)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.padding(toLength: width, withPad: " ", startingAt: 0)
    }

    /// A table cell: pipes escaped.
    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
