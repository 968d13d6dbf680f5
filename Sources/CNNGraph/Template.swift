import CNNConfig

/// A named, parameterized sub-network defined once in a model's `"define"` and then used like a
/// layer type (the lectures' "DNN Legos"):
///
///     "define": {"conv_bn": {"params": {"filters": null, "kernel": 1, "stride": 1},
///                            "body": [{"type": "conv2d", "name": "conv", "filters": "$filters", …},
///                                     {"type": "batchnorm", "name": "bn"}, {"type": "relu"}]}}
///     {"type": "conv_bn", "name": "stem", "filters": 32, "kernel": 3, "stride": 2}
///
/// A string value `"$p"` anywhere in the body stands for parameter `p`'s value, whatever its JSON
/// kind; a parameter whose default is `null` is required. A body that is a list becomes a block
/// named by the use (its entries named inside it, as in `sequential`, so reports read
/// `stem.conv`, `stem.bn`); a body that is one entry expands as that entry under the use's name.
/// Errors inside a body name the use and the definition: `model.layers[3] (conv_bn "stem") →
/// model.define.conv_bn.body[0] (conv2d "conv").kernel: …`.
struct Template {
    let name: String
    /// Key path of the definition (`model.define.conv_bn`).
    let path: String
    /// Parameters in definition order, with their defaults (nil: required).
    let parameters: [(name: String, defaultValue: JSONValue?)]
    let body: JSONValue

    /// The templates of a model's `"define"` object, each checked: its name is no built-in type,
    /// its body is an entry or a non-empty list of entries, and every `"$p"` in it names a
    /// parameter, and every parameter is used.
    static func parseDefinitions(_ value: JSONValue, path: String, file: String?,
                                 reserved: Set<String>) throws -> [String: Template] {
        guard case .object(let definitions) = value else {
            throw ConfigError(file: file, place: path, message: "expected an object of template definitions, "
                              + "got \(value.kindName)")
        }
        var templates: [String: Template] = [:]
        for (name, definition) in definitions.pairs {
            let place = "\(path).\(name)"
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ConfigError(file: file, place: place, message: "a template name uses letters, digits and _")
            }
            guard !reserved.contains(name) else {
                throw ConfigError(file: file, place: place, message: "\"\(name)\" is a built-in type; choose another name")
            }
            guard case .object(var object) = definition else {
                throw ConfigError(file: file, place: place, message: "expected {\"params\": {…}, \"body\": …}")
            }
            object["description"] = nil
            guard let body = object["body"] else {
                throw ConfigError(file: file, place: place, message: "missing required key \"body\"")
            }
            if case .array(let items) = body, items.isEmpty {
                throw ConfigError(file: file, place: "\(place).body", message: "expected a non-empty list of entries")
            }
            guard body.objectValue != nil || body.arrayValue != nil else {
                throw ConfigError(file: file, place: "\(place).body",
                                  message: "expected a layer entry or a list of entries, got \(body.kindName)")
            }
            var parameters: [(String, JSONValue?)] = []
            if let params = object["params"] {
                guard case .object(let p) = params else {
                    throw ConfigError(file: file, place: "\(place).params",
                                      message: "expected an object of parameters and defaults (null: required)")
                }
                // JSONValue is ExpressibleByNilLiteral: a bare `nil` here would be `.null`, not "required".
                parameters = p.pairs.map { ($0.key, $0.value == .null ? Optional<JSONValue>.none : $0.value) }
            }
            if let unknown = object.keys.first(where: { !["params", "body"].contains($0) }) {
                throw ConfigError(file: file, place: "\(place).\(unknown)",
                                  message: "unknown key; a definition has \"params\", \"body\" and \"description\"")
            }
            let template = Template(name: name, path: place, parameters: parameters, body: body)
            var used: Set<String> = []
            try template.checkReferences(body, path: "\(place).body", used: &used, file: file)
            if let unused = parameters.first(where: { !used.contains($0.0) }) {
                throw ConfigError(file: file, place: "\(place).params.\(unused.0)",
                                  message: "is never used as \"$\(unused.0)\" in the body")
            }
            templates[name] = template
        }
        return templates
    }

    /// The body with the use's arguments (its keys besides `type`, `name`, `inputs`,
    /// `activation`) in place of the parameters. `place` is the use's key path.
    func instantiate(arguments: JSONObject, place: String, file: String?) throws -> JSONValue {
        let names = parameters.map(\.name)
        var values: [String: JSONValue] = [:]
        for (key, value) in arguments.pairs {
            guard names.contains(key) else {
                throw ConfigError(file: file, place: "\(place).\(key)",
                                  message: "template \(name) (\(path)) has no parameter \"\(key)\""
                                  + Suggestion.hint(for: key, among: names) + "; its parameters: "
                                  + (names.isEmpty ? "none" : names.joined(separator: ", ")))
            }
            values[key] = value
        }
        for (parameter, defaultValue) in parameters where values[parameter] == nil {
            guard let defaultValue else {
                throw ConfigError(file: file, place: place, message: "missing required parameter \"\(parameter)\" "
                                  + "of template \(name) (\(path))")
            }
            values[parameter] = defaultValue
        }
        return substitute(body, values)
    }

    private func substitute(_ value: JSONValue, _ values: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let s) where s.hasPrefix("$"): values[String(s.dropFirst())] ?? value
        case .array(let items): .array(items.map { substitute($0, values) })
        case .object(let o): .object(JSONObject(o.pairs.map { ($0.key, substitute($0.value, values)) }))
        default: value
        }
    }

    private func checkReferences(_ value: JSONValue, path: String, used: inout Set<String>, file: String?) throws {
        switch value {
        case .string(let s) where s.hasPrefix("$"):
            let parameter = String(s.dropFirst()), names = parameters.map(\.name)
            guard names.contains(parameter) else {
                throw ConfigError(file: file, place: path, message: "\"\(s)\" names no parameter of template \(name)"
                                  + Suggestion.hint(for: parameter, among: names) + "; its parameters: "
                                  + (names.isEmpty ? "none (declare them in \"params\")" : names.joined(separator: ", ")))
            }
            used.insert(parameter)
        case .array(let items):
            for (i, item) in items.enumerated() { try checkReferences(item, path: "\(path)[\(i)]", used: &used, file: file) }
        case .object(let o):
            for (k, v) in o.pairs { try checkReferences(v, path: "\(path).\(k)", used: &used, file: file) }
        default:
            break
        }
    }
}
