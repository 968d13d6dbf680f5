import CNNConfig

/// `train.init_from`: weights to start from, as a path, or with options:
///
///     "init_from": "runs/a/best.safetensors"
///     "init_from": {"file": "resnet18.safetensors", "strict": true, "rename": {"module.": ""}}
///
/// Without `strict`, every tensor whose name and shape match is loaded and the rest is listed
/// (transfer learning: a new head keeps its initialisation). With it, the load fails unless
/// every parameter and buffer of the model is in the file with its shape and the file holds
/// nothing else, listing what is missing, unexpected or mis-shaped. `rename` maps name prefixes
/// of the file to the model's (longest first), for checkpoints saved under another module
/// path (`DataParallel`'s `module.`, a backbone's `features.`). PyTorch's
/// `num_batches_tracked` buffers are ignored either way: cnnctl's batch norm has a fixed momentum.
public struct InitFromSpec: Decodable, Sendable, Equatable {
    public var file: String
    public var strict: Bool
    public var rename: [String: String]

    private struct Options: Decodable {
        var file: String
        var strict: Bool?
        var rename: [String: String]?
    }

    public init(file: String, strict: Bool = false, rename: [String: String] = [:]) {
        self.file = file
        self.strict = strict
        self.rename = rename
    }

    public init(from decoder: any Decoder) throws {
        if let path = try? decoder.singleValueContainer().decode(String.self) {
            self.init(file: path)
            return
        }
        guard case .object? = decoder.jsonValue else {
            throw decoder.configError("expected a path, or {\"file\": …, \"strict\"?: true, \"rename\"?: {…}}")
        }
        let o = try Options(from: decoder)
        self.init(file: o.file, strict: o.strict ?? false, rename: o.rename ?? [:])
    }

    /// The model's name for the file's tensor `name`: its longest matching `rename` prefix
    /// replaced.
    public func modelName(_ name: String) -> String {
        guard let prefix = rename.keys.filter({ name.hasPrefix($0) }).max(by: { $0.count < $1.count }) else {
            return name
        }
        return rename[prefix]! + name.dropFirst(prefix.count)
    }

    /// PyTorch buffers that have no counterpart in cnnctl and are skipped.
    public static func isIgnored(_ name: String) -> Bool { name.hasSuffix("num_batches_tracked") }
}
