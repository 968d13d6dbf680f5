import CNNGraph

/// Transfer learning (`"init_from": "file.safetensors"`): loads every tensor whose name and shape
/// match the model and reports the rest, so a changed head (10 classes instead of 1000) keeps its
/// fresh initialisation and says so instead of failing or silently loading garbage.
public enum WeightTransfer {
    /// Returns report lines: what was loaded and what was skipped, with the reason.
    public static func load(_ path: String, into executor: Executor) throws -> [String] {
        let file = try SafeTensors.read(path)
        var loaded = 0, lines: [String] = []
        let params = executor.graph.parameters
        for (i, p) in params.enumerated() {
            guard let shape = file.shape(of: p.name) else {
                lines.append("  not in the file: \(p.name) keeps its initialisation")
                continue
            }
            guard shape == p.spec.shape.dims else {
                lines.append("  skipped \(p.name): shape \(shape) in the file, \(p.spec.shape.dims) in the model; "
                             + "it keeps its fresh initialisation (rename the layer to make that explicit)")
                continue
            }
            TrainingCheckpoint.copy(try file.values(of: p.name), into: executor, at: executor.parameterOffsets[i])
            loaded += 1
        }
        let names = Set(params.map(\.name))
        let unused = file.names.filter { !names.contains($0) }
        if !unused.isEmpty {
            lines.append("  unused from the file: " + unused.prefix(8).joined(separator: ", ")
                         + (unused.count > 8 ? " and \(unused.count - 8) more" : ""))
        }
        return ["init_from \(path): loaded \(loaded) of \(params.count) tensors"] + lines
    }
}
