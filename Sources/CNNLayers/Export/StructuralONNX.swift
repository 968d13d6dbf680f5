extension Flatten: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("Flatten", [b.inputs[0]], final: true, [("axis", .int(1))])
    }
}

extension Add: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws { b.add("Sum", b.inputs, final: true) }
}

/// The per-sample axis is one more in the batched tensor.
extension Concat: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("Concat", b.inputs, final: true, [("axis", .int(axis + 1))])
    }
}

/// Inference: the identity.
extension Dropout: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws { b.add("Identity", [b.inputs[0]], final: true) }
}

/// Inference: the identity.
extension DropPath: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws { b.add("Identity", [b.inputs[0]], final: true) }
}

/// Elementwise, or a per-channel scale (squeeze-and-excitation: `[N, C]` unsqueezed to
/// `[N, C, 1, …]` so that it broadcasts over the positions).
extension Multiply: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let (x, s) = (inputShapes[0], inputShapes[1])
        var scale = b.inputs[1]
        if s.rank < x.rank {
            let axes = Array(s.rank + 1...x.rank)
            scale = b.add("Unsqueeze", [scale, b.constant(int64s: axes)])
        }
        b.add("Mul", [b.inputs[0], scale], final: true)
    }
}

/// `Reshape` to `[N] + shape` (0 copies the batch).
extension Reshape: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("Reshape", [b.inputs[0], b.constant(int64s: [0] + outputShape.dims)], final: true)
    }
}

/// Option A's channel padding: `Pad` with zeros before and after the channel axis.
extension PadChannels: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let p = (outputShape[0] - inputShapes[0][0]) / 2
        b.add("Pad", [b.inputs[0], b.constant(int64s: [0, p, 0, 0, 0, p, 0, 0])], final: true)
    }
}

/// `Mul` by γ shaped `[C, 1, …]` to broadcast over the positions.
extension LayerScale: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let gamma = b.derived([b.parameter("gamma")], dims: [channels] + Array(repeating: 1, count: outputShape.rank - 1)) { $0[0] }
        b.add("Mul", [b.inputs[0], gamma], final: true)
    }
}

extension ConstantScale: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("Mul", [b.inputs[0], b.constant([factor], dims: [])], final: true)
    }
}
