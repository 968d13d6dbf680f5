import CNNCore

/// Max unpooling (Zeiler & Fergus 2014; SegNet, Badrinarayanan et al. 2017; PyTorch
/// `MaxUnpool2d`): the partial inverse of a `maxpool2d`. Each value goes back to the position its
/// pool took the maximum from; every other position is zero:
/// `y[n, c, argmax[n, c, i]] = x[n, c, i]`.
///
/// `x: [N, C, H′, W′]` (the pool's output shape) `→ y: [N, C, H, W]` (the pool's input shape).
/// Config `pool` names the `maxpool2d` node whose indices of the current forward are used, so
/// that pool must run before this layer. No parameters.
///
/// Overlapping pool windows can pick the same pixel twice; the later write wins (as PyTorch's
/// CPU kernel), and backward sends the gradient only to that writer, so it is the exact adjoint
/// of forward.
public final class MaxUnpool2D: Layer {
    public struct Config: Decodable, Sendable {
        var pool: String
    }

    public let name: String
    public static let typeName = "max_unpool2d"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let pool: MaxPool2D
    let channels: Int, plane: Int, pooledPlane: Int

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let x = try context.singleInput(rank: 3, what: "[channels, height, width]")
        guard let found = context.lookup(c.pool) else {
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
        outputShape = pool.inputShapes[0]
        self.pool = pool
        channels = x[0]
        pooledPlane = x[1] * x[2]
        plane = outputShape[1] * outputShape[2]
    }

    /// One plane of "which pooled element wrote here" for backward.
    public func workspaceSize(batch: Int) -> Int { plane }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = inputs[0]
        output.zero()
        for b in 0..<x.shape[0] {
            let idx = pool.indices(sample: b)
            for c in 0..<channels {
                let xp = x.data + (b * channels + c) * pooledPlane
                let yp = output.data + (b * channels + c) * plane
                let ip = idx.baseAddress! + c * pooledPlane
                for i in 0..<pooledPlane { yp[Int(ip[i])] = xp[i] }
            }
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        guard let dx = inputGradients[0] else { return }
        let (channels, plane, pooledPlane) = (channels, plane, pooledPlane)
        context.workspace.withMemoryRebound(to: Int32.self, capacity: plane) { writer in
            for b in 0..<dy.shape[0] {
                let idx = pool.indices(sample: b)
                for c in 0..<channels {
                    let dxp = dx.data + (b * channels + c) * pooledPlane
                    let dyp = dy.data + (b * channels + c) * plane
                    let ip = idx.baseAddress! + c * pooledPlane
                    // Replay forward's writes so each target remembers its last writer.
                    for i in 0..<pooledPlane { writer[Int(ip[i])] = Int32(i) }
                    for i in 0..<pooledPlane where writer[Int(ip[i])] == Int32(i) {
                        dxp[i] += dyp[Int(ip[i])]
                    }
                }
            }
        }
    }

    public static let registration = LayerRegistration(
        type: typeName, summary: "max unpooling: values back to their maxpool2d's argmax",
        keys: [
            ConfigKey("pool", "string",
                      "Full node name (with any block prefix) of the earlier maxpool2d whose argmax places "
                      + "each value; the input must have that pool's output shape, the output gets its "
                      + "input shape."),
        ],
        example: LayerExample(["pool": "pool1"], inputs: [[2, 3, 2]], standalone: false)
    ) { context in try MaxUnpool2D(context.decode(Config.self), context: &context) }
}
