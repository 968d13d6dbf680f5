import CNNCore

extension WindowGeometry {
    /// ONNX's pooling attributes; `ceil_mode` when the output has the extra window of PyTorch's
    /// ceil mode.
    var onnxPoolAttributes: [(name: String, value: ONNXAttribute)] {
        let floorH = (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1
        let floorW = (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1
        return [("kernel_shape", .ints([kernelH, kernelW])), ("strides", .ints([strideH, strideW])),
                ("pads", .ints([padTop, padLeft, padBottom, padRight])),
                ("ceil_mode", .int(outHeight > floorH || outWidth > floorW ? 1 : 0))]
    }
}

/// `MaxPool`; with its indices as a second output where a `max_unpool2d` reads them.
extension MaxPool2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let attributes = geometry.onnxPoolAttributes + [("dilations", .ints([geometry.dilationH, geometry.dilationW]))]
        if b.exportsState {
            b.addWithState("MaxPool", [b.inputs[0]], attributes)
        } else {
            b.add("MaxPool", [b.inputs[0]], final: true, attributes)
        }
    }
}

/// `MaxUnpool` with the pool's indices (ONNX's, flattened over the whole tensor, which its
/// `MaxPool` wrote) and the pool input's shape as the output shape.
extension MaxUnpool2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let source = b.stateInputs[0]
        let g = poolGeometry
        b.add("MaxUnpool", [b.inputs[0], source.indices, b.add("Shape", [source.inputOfSource])], final: true, [
            ("kernel_shape", .ints([g.kernelH, g.kernelW])), ("strides", .ints([g.strideH, g.strideW])),
            ("pads", .ints([g.padTop, g.padLeft, g.padBottom, g.padRight]))])
    }
}

extension AvgPool2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        b.add("AveragePool", [b.inputs[0]], final: true,
              geometry.onnxPoolAttributes + [("count_include_pad", .int(countIncludePad ? 1 : 0))])
    }
}

/// `GlobalAveragePool` keeps `[N, C, 1, 1]`; flattened where cnnctl's output is `[C]`. Over time,
/// `ReduceMean` over axis 1 (opset 17 takes the axes as an attribute).
extension GlobalAvgPool: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        try globalPool("GlobalAveragePool", "ReduceMean", planes, name, outputShape, &b)
    }
}

extension GlobalMaxPool: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        try globalPool("GlobalMaxPool", "ReduceMax", planes, name, outputShape, &b)
    }
}

private func globalPool(_ op: String, _ overTime: String, _ planes: GlobalPlanes, _ name: String, _ output: Shape,
                        _ b: inout ONNXNodeBuilder) throws {
    if planes.steps != nil {
        if let lengths = planes.lengths {
            throw ONNXExportError(layer: name, "pooling each sample's real steps (after \(lengths.source)'s "
                                  + "padding_index) is not supported by the exporter yet")
        }
        b.add(overTime, [b.inputs[0]], final: true, [("axes", .ints([1])), ("keepdims", .int(output.rank == 2 ? 1 : 0))])
    } else if output.rank == 1 {
        b.add("Flatten", [b.add(op, [b.inputs[0]])], final: true, [("axis", .int(1))])
    } else {
        b.add(op, [b.inputs[0]], final: true)
    }
}
