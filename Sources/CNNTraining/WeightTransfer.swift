import CNNGraph
import CNNLayers

/// Weights from a file into a model before training (`init_from`, `InitFromSpec`): by default
/// every tensor whose name and shape match is loaded and the rest reported, so a changed head
/// (10 classes instead of 1000) keeps its fresh initialisation and says so instead of failing
/// or silently loading garbage; `strict` requires an exact match.
public enum WeightTransfer {
    /// Returns report lines: what was loaded and what was skipped, with the reason.
    public static func load(_ spec: InitFromSpec, into executor: Executor) throws -> [String] {
        let path = spec.file
        let file = try SafeTensors.read(path)
        var byModelName: [String: String] = [:]
        for name in file.names where !InitFromSpec.isIgnored(name) { byModelName[spec.modelName(name), default: name] = name }
        var loaded = 0, lines: [String] = [], missing: [String] = [], misshaped: [String] = []
        let params = executor.graph.parameters
        for (i, p) in params.enumerated() {
            guard let source = byModelName[p.name], let shape = file.shape(of: source) else {
                missing.append(p.name)
                lines.append("  not in the file: \(p.name) keeps its initialisation")
                continue
            }
            guard shape == p.spec.shape.dims else {
                misshaped.append("\(p.name) (\(shape) in the file, \(p.spec.shape.dims) in the model)")
                lines.append("  skipped \(p.name): shape \(shape) in the file, \(p.spec.shape.dims) in the model; "
                             + "it keeps its fresh initialisation (rename the layer to make that explicit)")
                continue
            }
            TrainingCheckpoint.copy(try file.values(of: source), into: executor, at: executor.parameterOffsets[i])
            loaded += 1
        }
        let names = Set(params.map(\.name))
        let unused = byModelName.keys.filter { !names.contains($0) }.sorted().map { byModelName[$0]! }
        if spec.strict && !(missing.isEmpty && misshaped.isEmpty && unused.isEmpty) {
            func list(_ items: [String]) -> String {
                items.prefix(8).joined(separator: ", ") + (items.count > 8 ? " and \(items.count - 8) more" : "")
            }
            let problems = [(missing, "missing"), (unused, "unexpected"), (misshaped, "mis-shaped")]
                .filter { !$0.0.isEmpty }.map { "\($0.0.count) \($0.1): \(list($0.0))" }
            throw CheckpointError(file: path, message: "does not match model \"\(executor.graph.name)\" exactly "
                                  + "(init_from.strict): " + problems.joined(separator: "; ")
                                  + (spec.rename.isEmpty ? " (init_from.rename maps name prefixes)" : ""))
        }
        if !unused.isEmpty {
            lines.append("  unused from the file: " + unused.prefix(8).joined(separator: ", ")
                         + (unused.count > 8 ? " and \(unused.count - 8) more" : ""))
        }
        lines += forgetBiasWarnings(executor.graph, loaded: Set(byModelName.keys))
        return ["init_from \(path): loaded \(loaded) of \(params.count) tensors" + (spec.strict ? " (strict)" : "")]
            + lines
    }

    /// LSTM layers that add a forget bias (TensorFlow's 1.0 by default) at every step compute
    /// something else with weights trained without one (PyTorch's, Keras'): say so.
    static func forgetBiasWarnings(_ graph: Graph, loaded: Set<String>) -> [String] {
        graph.nodes.enumerated().compactMap { index, node in
            guard let bias = (node.layer as? LSTM)?.forgetBias, bias != 0,
                  graph.parameters.contains(where: { $0.node == index && loaded.contains($0.name) })
            else { return nil }
            return "  warning: \(node.layer.name) adds forget_bias \(bias) to its forget gate at every step; weights "
                + "from PyTorch or Keras were trained without it: set \"forget_bias\": 0 on that layer (or add it "
                + "to the forget slice of bias_ih)"
        }
    }
}
