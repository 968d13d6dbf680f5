import CNNConfig
import CNNCore
import CNNLayers

/// A config file as the user wrote it: either a model spec (`{"name", "input", "layers"}`) or a
/// full config `{"model", "data", "train"}` whose `model` is inline or a path to a model file,
/// resolved relative to the config's directory.
public struct ConfigFile {
    public let path: String
    /// The model object and the file it came from (which may be another file).
    public let model: JSONValue
    public let modelFile: String
    public let modelPath: String
    public let data: JSONValue?
    public let train: JSONValue?

    public static let fullConfigKeys = ["model", "data", "train", "description"]

    public static func load(_ path: String) throws -> ConfigFile {
        let root = try JSONSource.load(path: path)
        guard case .object(let object) = root else {
            throw ConfigError(file: path, place: "", message: "expected a JSON object at the top level, got \(root.kindName)")
        }
        guard object["model"] != nil else {
            if object["layers"] == nil {
                throw ConfigError(file: path, place: "", message: "expected a model spec (with \"layers\") "
                                  + "or a full config (with \"model\")")
            }
            return ConfigFile(path: path, model: root, modelFile: path, modelPath: "model", data: nil, train: nil)
        }
        if let unknown = object.keys.first(where: { !fullConfigKeys.contains($0) }) {
            throw ConfigError(file: path, place: unknown, message: "unknown key \"\(unknown)\"; valid keys: "
                              + fullConfigKeys.joined(separator: ", ") + Suggestion.hint(for: unknown, among: fullConfigKeys))
        }
        var model = object["model"]!, modelFile = path, modelPath = "model"
        if case .string(let relative) = model {
            modelFile = relative.hasPrefix("/") ? relative : directory(of: path) + relative
            do {
                model = try JSONSource.load(path: modelFile)
            } catch let e as ConfigError where e.place.isEmpty && e.message.hasPrefix("cannot read") {
                throw ConfigError(file: path, place: "model", message: "\(e.message): \(modelFile)")
            }
            modelPath = ""
        }
        return ConfigFile(path: path, model: model, modelFile: modelFile, modelPath: modelPath,
                          data: object["data"], train: object["train"])
    }

    /// Builds the model's graph, its layers choosing among `kernels`.
    public func buildGraph(kernels: KernelOptions = .environment) throws -> Graph {
        try GraphBuilder.build(model: model, path: modelPath, file: modelFile, kernels: kernels)
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }
}
