import CNNCore

/// Reinterprets each sample under a new shape with the same element count, row-major order
/// kept (PyTorch `x.view(N, *shape)`); one entry may be −1 and is inferred.
///
/// `x: [N] + inShape → y: [N] + shape`, e.g. `[N, 60] → [N, 3, 4, 5]`. No parameters. The data
/// is already contiguous, so forward is one copy and backward one accumulation. `flatten` is the
/// same layer with the shape `[inShape.count]`.
public final class Reshape: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var shape: [Int]
    }

    public let name: String
    public static let typeName = "reshape"
    /// `reshape`, or `flatten` for the flatten special case.
    public let type: String
    public let inputShapes: [Shape]
    public let outputShape: Shape

    /// The single input's values under the per-sample `shape` (of the same element count).
    init(to shape: Shape, type: String, context: LayerBuildContext) {
        name = context.name
        inputShapes = context.inputShapes
        outputShape = shape
        self.type = type
    }

    public convenience init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput()
        let written = "[" + c.shape.map(String.init).joined(separator: ", ") + "]"
        guard !c.shape.isEmpty else { throw context.error("must not be empty", key: "shape") }
        let inferred = c.shape.indices.filter { c.shape[$0] == -1 }
        guard inferred.count <= 1 else {
            throw context.error("at most one entry may be -1 (inferred), got \(written)",
                                key: "shape")
        }
        if let bad = c.shape.first(where: { $0 != -1 && $0 < 1 }) {
            throw context.error("entries must be ≥ 1 or -1, got \(bad) in \(written)", key: "shape")
        }
        var dims = c.shape
        guard let known = Shape(c.shape.filter { $0 != -1 }).checkedCount else {
            throw context.error("\(written) holds more elements than any tensor may", key: "shape")
        }
        if let i = inferred.first {
            guard s.count % known == 0 else {
                throw context.error("cannot reshape \(s) (\(s.count) elements) into \(written): "
                                    + "\(s.count) is not a multiple of \(known)", key: "shape")
            }
            dims[i] = s.count / known
        }
        guard dims.reduce(1, *) == s.count else {
            throw context.error("cannot reshape \(s) (\(s.count) elements) into \(written) "
                                + "(\(known) elements)", key: "shape")
        }
        self.init(to: Shape(dims), type: Self.typeName, context: context)
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        output.data.update(from: inputs[0].data, count: output.count)
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        for i in 0..<dy.count { dx.data[i] += dy.data[i] }
    }

    public static let registration = LayerRegistration(
        Reshape.self, summary: "gives each sample a new shape (one -1 entry is inferred)",
        keys: [
            ConfigKey("shape", "[int, …]",
                      "New per-sample shape, batch excluded, with the same element count; one entry may be "
                      + "-1, inferred from the others."),
        ],
        example: LayerExample(["shape": [5, -1]], inputs: [[2, 3, 5]])
    )
}
