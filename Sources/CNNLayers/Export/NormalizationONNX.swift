/// `LRN` (PyTorch's `LocalResponseNorm`: α divided by the size, as ONNX's).
extension LocalResponseNorm: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("LRN", [b.inputs[0]], final: true, [("size", .int(size)), ("alpha", .float(alpha)),
                                                  ("beta", .float(beta)), ("bias", .float(k))])
    }
}

/// `LayerNormalization` over the trailing normalized dimensions (opset 17), unit scale and zero
/// shift without the elementwise affine.
extension LayerNorm: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let n = normalizedShape.count, dims = normalizedShape.dims
        let affine = parameterSpecs.contains { $0.name == "weight" }
        let scale = affine ? b.parameter("weight") : b.constant([Float](repeating: 1, count: n), dims: dims)
        let shift = affine ? b.parameter("bias") : b.constant([Float](repeating: 0, count: n), dims: dims)
        b.add("LayerNormalization", [b.inputs[0], scale, shift], final: true,
              [("axis", .int(-normalizedShape.rank)), ("epsilon", .float(statistics.eps))])
    }
}

/// Group norm through `InstanceNormalization` on `[N, groups, rest]` (its statistics are the
/// groups'; `GroupNormalization` is opset 18), reshaped back, then the per-channel affine.
extension GroupNorm: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let shape = inputShapes[0]
        let grouped = b.add("Reshape", [b.inputs[0], b.constant(int64s: [0, groups, -1])])
        let normalized = b.add("InstanceNormalization", [
            grouped, b.constant([Float](repeating: 1, count: groups), dims: [groups]),
            b.constant([Float](repeating: 0, count: groups), dims: [groups])], [("epsilon", .float(statistics.eps))])
        let restored = b.add("Reshape", [normalized, b.constant(int64s: [0] + shape.dims)])
        guard parameterSpecs.contains(where: { $0.name == "weight" }) else {
            b.add("Identity", [restored], final: true)
            return
        }
        // [C] → [C, 1, …] so that it broadcasts over the positions.
        let dims = [channels] + Array(repeating: 1, count: shape.rank - 1)
        let scale = b.derived([b.parameter("weight")], dims: dims) { $0[0] }
        let shift = b.derived([b.parameter("bias")], dims: dims) { $0[0] }
        b.add("Add", [b.add("Mul", [restored, scale]), shift], final: true)
    }
}

/// `Softmax` over the per-sample axis (one more in the batched tensor).
extension Softmax: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("Softmax", [b.inputs[0]], final: true, [("axis", .int(axis + 1))])
    }
}

/// `LayerNormalization` on the last axis of the channels-last map (`Transpose` there and back).
extension LayerNorm2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let last = b.add("Transpose", [b.inputs[0]], [("perm", .ints([0, 2, 3, 1]))])
        let normalized = b.add("LayerNormalization", [last, b.parameter("weight"), b.parameter("bias")],
                               [("axis", .int(-1)), ("epsilon", .float(statistics.eps))])
        b.add("Transpose", [normalized], final: true, [("perm", .ints([0, 3, 1, 2]))])
    }
}
