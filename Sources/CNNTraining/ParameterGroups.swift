import CNNConfig
import CNNGraph
import CNNLayers

/// Builds the `ParameterGroup`s of a graph: which parameters train and which decay.
public enum ParameterGroups {
    /// One group per parameter of `graph`, in `graph.parameters` order, at `offsets` in the arena
    /// (`Executor.parameterOffsets`).
    ///
    /// `freeze` lists `NamePattern`s (a parameter name, a layer or block name, a glob such as
    /// `"stage1.*"`); matching parameters are frozen. `decay` is set for roles weight and
    /// embedding unless an `exclude` pattern of `regularization` selects the parameter, with or
    /// without a regularization section (the optimizer's weight decay uses it too). A pattern
    /// that selects nothing is a `ConfigError` at `train.freeze[i]` (in `file`) or at the
    /// regularization's `exclude[i]`, naming the closest name and the model's top-level layers.
    public static func groups(for graph: Graph, offsets: [Int], freeze: [String] = [],
                              regularization: Regularization? = nil,
                              file: String? = nil) throws -> [ParameterGroup] {
        let parameters = graph.parameters
        precondition(offsets.count == parameters.count, "one offset per parameter")
        let names = parameters.map(\.name)
        let freezing = freeze.map(NamePattern.init)
        let excluding = (regularization?.exclude ?? []).map(NamePattern.init)
        try checkUsed(freezing, names: names, place: ConfigPlace(file: file, path: "train.freeze"))
        if let r = regularization {
            try checkUsed(excluding, names: names,
                          place: ConfigPlace(file: r.place.file, path: r.place.path + ".exclude"))
        }
        return parameters.enumerated().map { i, p in
            let decays = (p.spec.role == .weight || p.spec.role == .embedding)
                && !excluding.contains { $0.selects(p.name) }
            return ParameterGroup(name: p.name, range: offsets[i]..<offsets[i] + p.spec.shape.count,
                                  role: p.spec.role,
                                  frozen: freezing.contains { $0.selects(p.name) }, decay: decays)
        }
    }

    private static func checkUsed(_ patterns: [NamePattern], names: [String],
                                  place: ConfigPlace) throws {
        for (i, pattern) in patterns.enumerated() where !names.contains(where: pattern.selects) {
            // Candidates: every parameter name and each of its layer/block prefixes.
            var candidates: [String] = [], seen: Set<String> = []
            for name in names {
                var prefix = ""
                for part in name.split(separator: ".") {
                    prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                    if seen.insert(prefix).inserted { candidates.append(prefix) }
                }
            }
            var topLevel: [String] = []
            for name in names {
                let first = String(name.prefix { $0 != "." })
                if !topLevel.contains(first) { topLevel.append(first) }
            }
            let list = topLevel.count > 20
                ? topLevel.prefix(20).joined(separator: ", ") + ", … (\(topLevel.count) in all)"
                : topLevel.joined(separator: ", ")
            let hint = suggestion(for: pattern, among: candidates, names: names)
                .map { " (did you mean \"\($0)\"?)" } ?? ""
            throw ConfigError(
                file: place.file, place: ConfigDecoder.keyPath(place.path, index: i),
                message: "\"\(pattern.pattern)\" matches no parameter\(hint); "
                    + "the model's layers with parameters: \(list.isEmpty ? "none" : list)")
        }
    }

    /// A close pattern that does select something: the literal part before the first wildcard
    /// is replaced by the closest layer or parameter name (`stage2.*` → `stage1.*`).
    private static func suggestion(for pattern: NamePattern, among candidates: [String],
                                   names: [String]) -> String? {
        let text = pattern.pattern
        let wildcard = text.firstIndex { $0 == "*" || $0 == "?" } ?? text.endIndex
        var literal = String(text[..<wildcard]), rest = String(text[wildcard...])
        if literal.hasSuffix(".") && !rest.isEmpty {
            literal.removeLast()
            rest = "." + rest
        }
        guard !literal.isEmpty, let close = Suggestion.closest(to: literal, among: candidates)
        else { return nil }
        let suggested = NamePattern(close + rest)
        return names.contains(where: suggested.selects) ? suggested.pattern : nil
    }
}
