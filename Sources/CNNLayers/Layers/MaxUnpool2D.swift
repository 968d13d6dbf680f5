import CNNCore

/// Max unpooling (Zeiler & Fergus 2014; SegNet, Badrinarayanan et al. 2017; PyTorch
/// `MaxUnpool2d`): the partial inverse of a `maxpool2d`. Each value goes back to the position its
/// pool took the maximum from; every other position is zero:
/// `y[n, c, argmax[n, c, i]] = x[n, c, i]`.
///
/// `x: [N, C, H′, W′]` (the pool's output shape) `→ y: [N, C, H, W]` (the pool's input shape).
/// Config `pool` names an earlier `maxpool2d` node; its argmax of the current forward (its saved
/// state) reaches this layer through a state edge of the graph. No parameters.
///
/// Overlapping pool windows can pick the same pixel twice; the later write wins (as PyTorch's
/// CPU kernel), and backward sends the gradient only to that writer, so it is the exact adjoint
/// of forward.
public final class MaxUnpool2D: ConfiguredLayer {
    public struct Config: Decodable, Sendable {
        var pool: String
    }

    public let name: String
    public static let typeName = "max_unpool2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let channels: Int, plane: Int, pooledPlane: Int
    /// The pool's window, which ONNX's `MaxUnpool` is told again.
    let poolGeometry: WindowGeometry

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        guard let found = context.readSavedState(ofNode: c.pool) else {
            throw context.error("no layer named \"\(c.pool)\" is built before this one "
                                + "(max_unpool2d needs its maxpool2d)", key: "pool")
        }
        guard let pool = found as? MaxPool2D else {
            throw context.error("\"\(c.pool)\" is a \(found.type), not a maxpool2d", key: "pool")
        }
        guard x == pool.outputShape else {
            throw context.error("input \(x) does not match the output \(pool.outputShape) of "
                                + "maxpool2d \"\(c.pool)\"")
        }
        name = context.name
        inputShapes = context.inputShapes
        poolGeometry = pool.geometry
        outputShape = pool.inputShapes[0]
        channels = x[0]
        pooledPlane = x[1] * x[2]
        plane = outputShape[1] * outputShape[2]
    }

    /// The pool's argmax for this batch: its saved state, `[N, C, H′, W′]` (`MaxPool2D`).
    private func argmax(_ context: ExecutionContext, batch n: Int) -> UnsafeMutablePointer<Int32> {
        context.stateInputs[0].indices(count: n * channels * pooledPlane)
    }

    /// One plane of "which pooled element wrote here" for backward.
    public func workspaceSize(batch: Int) -> Int { plane }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0]
        let idx = argmax(context, batch: x.shape[0])
        output.zero()
        for p in 0..<x.shape[0] * channels {
            let xp = x.data + p * pooledPlane, yp = output.data + p * plane, ip = idx + p * pooledPlane
            for i in 0..<pooledPlane { yp[Int(ip[i])] = xp[i] }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let (plane, pooledPlane) = (plane, pooledPlane)
        let idx = argmax(context, batch: dy.shape[0])
        context.workspace.withMemoryRebound(to: Int32.self, capacity: plane) { writer in
            for p in 0..<dy.shape[0] * channels {
                let dxp = dx.data + p * pooledPlane, dyp = dy.data + p * plane, ip = idx + p * pooledPlane
                // Replay forward's writes so each target remembers its last writer.
                for i in 0..<pooledPlane { writer[Int(ip[i])] = Int32(i) }
                for i in 0..<pooledPlane where writer[Int(ip[i])] == Int32(i) {
                    dxp[i] += dyp[Int(ip[i])]
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        MaxUnpool2D.self, summary: "max unpooling: values back to their maxpool2d's argmax",
        keys: [
            ConfigKey("pool", "string",
                      "Full node name (with any block prefix) of the earlier maxpool2d whose argmax places "
                      + "each value; the input must have that pool's output shape, the output gets its "
                      + "input shape."),
        ],
        example: LayerExample(["pool": "pool1"], inputs: [[2, 3, 2]], standalone: false)
    )
}
