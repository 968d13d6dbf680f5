import CNNCore

/// Concatenation along one per-sample axis, the channel axis by default (PyTorch
/// `torch.cat(xs, dim = axis + 1)`; the Inception and DenseNet join).
///
/// `xᵢ: [N, Cᵢ, H, W] → y: [N, Σ Cᵢ, H, W]`; all other dimensions must match. `axis` counts
/// per-sample dimensions (0 = channels of an image, 1 = features of a `[T, F]` sequence);
/// negative values count from the end. No parameters; backward routes each slice back.
public final class Concat: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var axis: Int?

        public init(axis: Int? = nil) { self.axis = axis }
    }

    public let name: String
    public static let typeName = "concat"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    /// Per input: floats in one contiguous slice (its length along the axis × inner size).
    let slices: [Int]
    /// The per-sample axis joined along.
    let axis: Int
    /// Product of the dimensions before the axis: slices repeat this many times per sample.
    let outer: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let shapes = context.inputShapes
        guard let first = shapes.first else { throw context.error("takes at least 1 input, got 0") }
        let written = c.axis ?? 0
        let axis = written < 0 ? written + first.rank : written
        guard axis >= 0, axis < first.rank else {
            throw context.error("must be in \(-first.rank)..<\(first.rank) for \(first) inputs, "
                                + "got \(written)", key: "axis")
        }
        for (k, s) in shapes.enumerated() {
            var other = s.dims, reference = first.dims
            if s.rank == first.rank { other[axis] = 0; reference[axis] = 0 }
            guard other == reference else {
                throw context.error("input \(k) has shape \(s), input 0 has shape \(first): all "
                                    + "dimensions except axis \(axis) must match")
            }
        }
        name = context.name
        inputShapes = shapes
        self.axis = axis
        var dims = first.dims
        dims[axis] = shapes.reduce(0) { $0 + $1[axis] }
        outputShape = Shape(dims)
        let inner = first.dims[(axis + 1)...].reduce(1, *)
        outer = first.dims[..<axis].reduce(1, *)
        slices = shapes.map { $0[axis] * inner }
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        var y = output.data
        for b in 0..<output.shape[0] {
            for o in 0..<outer {
                for (k, x) in inputs.enumerated() {
                    let len = slices[k]
                    y.update(from: x.data + (b * outer + o) * len, count: len)
                    y += len
                }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        var g = UnsafePointer(dy.data)
        for b in 0..<dy.shape[0] {
            for o in 0..<outer {
                for (k, dx) in inputGradients.enumerated() {
                    let len = slices[k]
                    if let dx {
                        let d = dx.data + (b * outer + o) * len
                        for i in 0..<len { d[i] += g[i] }
                    }
                    g += len
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        Concat.self, summary: "concatenates inputs along the channel axis (or `axis`)",
        keys: [
            ConfigKey("axis", "int", default: "0",
                      "Per-sample axis to join along, 0 the channels; negative counts from the end "
                      + "(PyTorch `dim` = axis + 1 for axis ≥ 0)."),
        ],
        example: LayerExample([:], inputs: [[2, 3, 5], [1, 3, 5], [3, 3, 5]])
    )
}
