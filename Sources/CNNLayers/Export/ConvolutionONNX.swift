import CNNCore

/// `Conv` with PyTorch's weight layout `[M, C/group, kH, kW]`; padding as `pads` (top, left,
/// bottom, right), so asymmetric padding needs no extra node.
extension Conv2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let g = geometry
        // Reflect and replicate padding as a Pad node (ONNX's reflect and edge); circular needs
        // opset 19's wrap, symmetric has no ONNX mode.
        var x = b.inputs[0], pads = [g.padTop, g.padLeft, g.padBottom, g.padRight]
        if paddingMode != .zeros {
            guard let mode = ["reflect": "reflect", "replicate": "edge"][paddingMode.rawValue] else {
                throw ONNXExportError(layer: name, "padding_mode \(paddingMode.rawValue) has no ONNX Pad mode in "
                                      + "opset \(17) (reflect and replicate have)")
            }
            x = b.add("Pad", [x, b.constant(int64s: [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]])],
                      [("mode", .string(mode))])
            pads = [0, 0, 0, 0]
        }
        // A connection table (LeNet-5's C3) is written as the dense convolution it computes, with
        // zero kernels where a filter does not see a map.
        var weight = b.parameter("weight")
        if let connected {
            let (table, area, channels) = (connected.table, connected.kernelArea, g.channels)
            weight = b.derived([weight], dims: [filters, channels, g.kernelH, g.kernelW]) { v in
                var dense = [Float](repeating: 0, count: table.count * channels * area), k = 0
                for (f, maps) in table.enumerated() {
                    for c in maps {
                        for i in 0..<area { dense[(f * channels + c) * area + i] = v[0][k * area + i] }
                        k += 1
                    }
                }
                return dense
            }
        }
        b.add("Conv", [x, weight] + (hasBias ? [b.parameter("bias")] : []), final: true, [
            ("kernel_shape", .ints([g.kernelH, g.kernelW])), ("strides", .ints([g.strideH, g.strideW])),
            ("pads", .ints(pads)),
            ("dilations", .ints([g.dilationH, g.dilationW])), ("group", .int(shape.groups)),
        ])
    }
}

/// `Gemm` with `transB` (PyTorch's `[out, in]` weight) on a `[N, F]` input; on `[N, T, F]`
/// sequences `MatMul` with the transposed weight, then the bias.
extension Dense: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let bias = hasBias ? [b.parameter("bias")] : []
        guard inputShapes[0].rank == 2 else {
            b.add("Gemm", [b.inputs[0], b.parameter("weight")] + bias, final: true, [("transB", .int(1))])
            return
        }
        let (rows, columns) = (units, features)
        let transposed = b.derived([b.parameter("weight")], dims: [columns, rows]) { v in
            (0..<columns).flatMap { c in (0..<rows).map { r in v[0][r * columns + c] } }
        }
        if hasBias {
            b.add("Add", [b.add("MatMul", [b.inputs[0], transposed]), b.parameter("bias")], final: true)
        } else {
            b.add("MatMul", [b.inputs[0], transposed], final: true)
        }
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

/// `ConvTranspose` with PyTorch's `[C, F, kh, kw]` weights; `output_padding` recovered from the
/// sizes.
extension ConvTranspose2D: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let g = geometry   // the convolution from this layer's output back to its input
        let extraH = g.height - ((g.outHeight - 1) * g.strideH - g.padTop - g.padBottom + g.dilationH * (g.kernelH - 1) + 1)
        let extraW = g.width - ((g.outWidth - 1) * g.strideW - g.padLeft - g.padRight + g.dilationW * (g.kernelW - 1) + 1)
        b.add("ConvTranspose", [b.inputs[0], b.parameter("weight")] + (hasBias ? [b.parameter("bias")] : []),
              final: true, [
                ("kernel_shape", .ints([g.kernelH, g.kernelW])), ("strides", .ints([g.strideH, g.strideW])),
                ("pads", .ints([g.padTop, g.padLeft, g.padBottom, g.padRight])),
                ("dilations", .ints([g.dilationH, g.dilationW])), ("output_padding", .ints([extraH, extraW])),
              ])
    }
}

/// `Resize` by the integer factors: PyTorch's nearest (`asymmetric`, `floor`) or bilinear
/// without corner alignment (`half_pixel`).
extension Upsample: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let scales = b.constant([1, 1, Float(outputShape[1] / height), Float(outputShape[2] / width)], dims: [4])
        let attributes: [(name: String, value: ONNXAttribute)] = mode == .nearest
            ? [("mode", .string("nearest")), ("coordinate_transformation_mode", .string("asymmetric")),
               ("nearest_mode", .string("floor"))]
            : [("mode", .string("linear")), ("coordinate_transformation_mode", .string("half_pixel"))]
        b.add("Resize", [b.inputs[0], "", scales], final: true, attributes)
    }
}

/// The concatenation it never stores, `BatchNormalization`, `Relu` and the 1x1 `Conv`.
extension DenseBottleneck: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let x = b.inputs.count == 1 ? b.inputs[0] : b.add("Concat", b.inputs, [("axis", .int(1))])
        let normalized = b.add("BatchNormalization", [x, b.parameter("norm1.weight"), b.parameter("norm1.bias"),
                                                      b.parameter("norm1.running_mean"), b.parameter("norm1.running_var")],
                               [("epsilon", .float(eps))])
        b.add("Conv", [b.add("Relu", [normalized]), b.parameter("conv1.weight")], final: true,
              [("kernel_shape", .ints([1, 1]))])
    }
}

