import CNNCore
import CNNGraph
import CNNLayers

/// A graph and its weights as an ONNX model (opset 17, IR version 8; field numbers from ONNX's
/// onnx.proto): the input `input` `[batch, …]`, every node's layer as the operators it describes
/// (`ONNXExportable`), its parameters and batch-norm statistics as float initializers named as
/// in the checkpoint, and the main output (or every output) named after its layer. A layer
/// without an ONNX form is an error naming it.
public enum ONNXExporter {
    public static let opset = 17
    static let irVersion = 8
    static let float = 1, int64 = 7

    /// `parameter(name)` gives a parameter's values (the checkpoint's).
    public static func export(_ graph: Graph, parameter: (String) throws -> [Float], allOutputs: Bool,
                              producerVersion: String) throws -> [UInt8] {
        func value(_ node: Int) -> String { node == Node.modelInput ? "input" : graph.nodes[node].layer.name }
        var nodes: [ONNXNode] = [], constants: [ONNXConstant] = []
        let stateSources = Set(graph.nodes.flatMap(\.stateInputs))
        for (index, node) in graph.nodes.enumerated() {
            guard let layer = node.layer as? any ONNXExportable else {
                throw ONNXExportError(layer: "\(node.layer.name) (\(node.layer.type))",
                                      "the exporter has no ONNX form for \(node.layer.type) layers yet")
            }
            // A layer that reads its input in another shape than its producer wrote (a [C] vector
            // as a [C, 1, 1] image) gets a Reshape first.
            var inputs: [String] = []
            for (k, source) in node.inputs.enumerated() {
                let written = source == Node.modelInput ? graph.inputShape : graph.nodes[source].layer.outputShape
                let read = node.layer.inputShapes[k]
                guard written != read else { inputs.append(value(source)); continue }
                let shape = "\(node.layer.name)/input_\(k)_shape", reshaped = "\(node.layer.name)/input_\(k)"
                constants.append(ONNXConstant(name: shape, dims: [read.rank + 1], values: .int64s([0] + read.dims)))
                nodes.append(ONNXNode(opType: "Reshape", name: reshaped, inputs: [value(source), shape],
                                      outputs: [reshaped], attributes: []))
                inputs.append(reshaped)
            }
            let states = node.stateInputs.map { source in
                (indices: ONNXNodeBuilder.stateOutput(of: graph.nodes[source].layer.name),
                 inputOfSource: value(graph.nodes[source].inputs[0]))
            }
            var builder = ONNXNodeBuilder(layerName: node.layer.name, inputs: inputs, output: value(index),
                                          stateInputs: states, exportsState: stateSources.contains(index))
            try layer.exportONNX(&builder)
            nodes += builder.nodes
            constants += builder.constants
        }
        let outputs = allOutputs ? graph.outputs : [graph.outputs[0]]
        var derived: [String: [Float]] = [:]
        for c in constants {
            if case .derived(let names, let transform) = c.values { derived[c.name] = transform(try names.map(parameter)) }
        }
        // Parameters the nodes read (a recurrent layer's are reordered into derived constants).
        let used = Set(nodes.flatMap(\.inputs))
        let parameters = try graph.parameters.filter { used.contains($0.name) }
            .map { ($0.name, $0.spec.shape.dims, try parameter($0.name)) }
        var model = ProtobufWriter()
        model.int(1, irVersion)
        model.string(2, "cnnctl")
        model.string(3, producerVersion)
        model.message(7) { g in
            for n in nodes { g.message(1) { encode(n, into: &$0) } }
            g.string(2, graph.name)
            for (name, dims, values) in parameters {
                g.message(5) { tensor(name, dims: dims, type: float, raw: floatBytes(values), into: &$0) }
            }
            for c in constants {
                switch c.values {
                case .floats(let v): g.message(5) { tensor(c.name, dims: c.dims, type: float, raw: floatBytes(v), into: &$0) }
                case .int64s(let v): g.message(5) { tensor(c.name, dims: c.dims, type: int64, raw: int64Bytes(v), into: &$0) }
                case .derived: g.message(5) { tensor(c.name, dims: c.dims, type: float, raw: floatBytes(derived[c.name]!), into: &$0) }
                }
            }
            g.message(11) { valueInfo("input", graph.inputShape, into: &$0) }
            for o in outputs { g.message(12) { valueInfo(value(o), graph.nodes[o].layer.outputShape, into: &$0) } }
        }
        model.message(8) { $0.string(1, ""); $0.int(2, opset) }
        return model.bytes
    }

    static func encode(_ node: ONNXNode, into w: inout ProtobufWriter) {
        for i in node.inputs { w.string(1, i) }
        for o in node.outputs { w.string(2, o) }
        w.string(3, node.name)
        w.string(4, node.opType)
        for (name, value) in node.attributes {
            w.message(5) { a in
                a.string(1, name)
                switch value {
                case .float(let f): a.float(2, f); a.int(20, 1)
                case .int(let i): a.int(3, i); a.int(20, 2)
                case .floats(let f): a.packedFloats(7, f); a.int(20, 6)
                case .ints(let i): a.packedInts(8, i); a.int(20, 7)
                case .string(let text): a.string(4, text); a.int(20, 3)
                case .strings(let texts): for t in texts { a.string(9, t) }; a.int(20, 8)
                }
            }
        }
    }

    static func tensor(_ name: String, dims: [Int], type: Int, raw: [UInt8], into w: inout ProtobufWriter) {
        if !dims.isEmpty { w.packedInts(1, dims) }
        w.int(2, type)
        w.string(8, name)
        w.data(9, raw)
    }

    /// A float tensor `[batch] + shape`, the batch a named dimension.
    static func valueInfo(_ name: String, _ shape: Shape, into w: inout ProtobufWriter) {
        w.string(1, name)
        w.message(2) { t in
            t.message(1) { tensor in
                tensor.int(1, float)
                tensor.message(2) { s in
                    s.message(1) { $0.string(2, "batch") }
                    for d in shape.dims { s.message(1) { $0.int(1, d) } }
                }
            }
        }
    }

    /// ONNX's raw_data is little-endian: the memory itself on a little-endian machine.
    static func floatBytes(_ values: [Float]) -> [UInt8] {
        #if _endian(little)
        return values.withUnsafeBytes { Array($0) }
        #else
        return values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        #endif
    }

    static func int64Bytes(_ values: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { out += $0 } }
        return out
    }
}
