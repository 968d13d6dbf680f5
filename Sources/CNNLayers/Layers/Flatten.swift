import CNNCore

/// Flattens each sample to a vector: `y[n, i] = x[n, …]` in row-major order (PyTorch
/// `nn.Flatten()`, `start_dim = 1`).
///
/// `x: [N, C, H, W] (or any per-sample shape) → y: [N, C·H·W]`. No parameters. It is `reshape`
/// to `[C·H·W]` (the same one-copy forward and one-accumulation backward), built as a `Reshape`
/// that reports itself as `flatten`.
public enum Flatten {
    public static let typeName = "flatten"

    public struct Config: Decodable, Sendable {
        /// Asks for the (empty) object so that any key is reported as unknown.
        public init(from decoder: Decoder) throws {
            _ = try decoder.container(keyedBy: NoKeys.self)
        }
        private enum NoKeys: CodingKey {}
    }

    public static let registration = LayerRegistration(
        type: typeName, summary: "flattens each sample to a vector",
        keys: [],
        example: LayerExample([:], inputs: [[2, 3, 5]])
    ) { context in
        _ = try context.decode(Config.self)
        let s = try context.singleInput()
        return Reshape(to: [s.count], type: typeName, context: context)
    }
}
