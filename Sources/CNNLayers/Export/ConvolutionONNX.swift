import CNNCore

/// `Conv` with PyTorch's weight layout `[M, C/group, kH, kW]`; padding as `pads` (top, left,
/// bottom, right), so asymmetric padding needs no extra node.
extension Conv2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        guard connected == nil else {
            throw ONNXExportError(layer: name, "its connection table has no ONNX form; write the layer without "
                                  + "\"connections\" (a dense convolution) to export it")
        }
        guard paddingMode == .zeros else {
            throw ONNXExportError(layer: name, "padding_mode \(paddingMode.rawValue) is not supported by the "
                                  + "exporter yet; only zero padding")
        }
        let g = geometry
        b.add("Conv", [b.inputs[0], b.parameter("weight")] + (hasBias ? [b.parameter("bias")] : []), final: true, [
            ("kernel_shape", .ints([g.kernelH, g.kernelW])), ("strides", .ints([g.strideH, g.strideW])),
            ("pads", .ints([g.padTop, g.padLeft, g.padBottom, g.padRight])),
            ("dilations", .ints([g.dilationH, g.dilationW])), ("group", .int(shape.groups)),
        ])
    }
}

/// `Gemm` with `transB` (PyTorch's `[out, in]` weight) on a `[N, F]` input.
extension Dense: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        guard inputShapes[0].rank == 1 else {
            throw ONNXExportError(layer: name, "a dense layer over \(inputShapes[0]) sequences is not supported "
                                  + "by the exporter yet")
        }
        b.add("Gemm", [b.inputs[0], b.parameter("weight")] + (hasBias ? [b.parameter("bias")] : []), final: true,
              [("transB", .int(1))])
    }
}

/// `BatchNormalization` in inference (running statistics); without `affine`, unit scale and
/// zero shift.
extension BatchNorm: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        guard outer == 1 else {
            throw ONNXExportError(layer: name, "batch norm over the last axis of \(inputShapes[0]) has no "
                                  + "BatchNormalization form")
        }
        let scale = parameterSpecs.contains { $0.name == "weight" } ? b.parameter("weight")
            : b.constant([Float](repeating: 1, count: channels), dims: [channels])
        let shift = parameterSpecs.contains { $0.name == "bias" } ? b.parameter("bias")
            : b.constant([Float](repeating: 0, count: channels), dims: [channels])
        b.add("BatchNormalization", [b.inputs[0], scale, shift, b.parameter("running_mean"),
                                     b.parameter("running_var")], final: true, [("epsilon", .float(eps))])
    }
}
