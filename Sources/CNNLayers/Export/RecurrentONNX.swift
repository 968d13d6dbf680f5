/// GRU, LSTM and RNN layers as ONNX's `GRU`, `LSTM` and `RNN`, one operator per stacked layer
/// (time-major, so transposed around them). PyTorch's gate blocks are reordered to ONNX's —
/// LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h with `linear_before_reset` for the PyTorch form —,
/// LSTM's forget bias is folded into the forget block of `W_b`, its peepholes go to `P` (i, o,
/// f), and the lectures' GRU (`reset_after: false`, `z` weighting the new state) has its `z`
/// rows negated so that ONNX's `1 − z` is its `z`.
extension RecurrentLayer: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        guard !learnedInitialState else {
            throw ONNXExportError(layer: name, "learned initial states are not supported by the exporter yet")
        }
        if let lengths {
            throw ONNXExportError(layer: name, "stopping at sequence lengths (after \(lengths.source)'s padding_index) "
                                  + "is not supported by the exporter yet")
        }
        let H = hidden, dirs = directions
        var op = "RNN", blocks = [0], negated: Int? = nil, forgetBias: Float = 0
        var attributes: [(name: String, value: ONNXAttribute)] = []
        var peepholes = false
        if let lstm = self as? LSTM {
            op = "LSTM"; blocks = [0, 3, 1, 2]; forgetBias = lstm.forgetBias; peepholes = lstm.peepholes
        } else if let gru = self as? GRU {
            op = "GRU"; blocks = [1, 0, 2]
            attributes.append(("linear_before_reset", .int(gru.resetAfter ? 1 : 0)))
            if !gru.resetAfter { negated = 0 }   // the z block, first in ONNX's order
        } else if let rnn = self as? SimpleRNN {
            attributes.append(("activations", .strings(Array(repeating: rnn.cell.nonlinearity == .relu ? "Relu" : "Tanh",
                                                               count: dirs))))
        }
        let G = blocks.count * H
        let (gateBlocks, negatedBlock, isLSTM, folded) = (blocks, negated, op == "LSTM", forgetBias)
        /// One direction's `[G, …]` rows in ONNX's gate order, with `add` added to the forget
        /// block (ONNX's third for LSTM) and the negated block negated.
        @Sendable func reorder(_ v: [Float], width: Int, add: Float = 0) -> [Float] {
            var out: [Float] = []
            for (k, block) in gateBlocks.enumerated() {
                let rows = v[block * H * width..<(block + 1) * H * width]
                let sign: Float = k == negatedBlock ? -1 : 1
                out += rows.map { sign * $0 + (isLSTM && k == 2 ? add : 0) }
            }
            return out
        }
        var x = b.add("Transpose", [b.inputs[0]], [("perm", .ints([1, 0, 2]))])   // [T, N, F]
        var last: (y: String, h: String) = ("", "")
        for k in 0..<layers {
            let sfx = (0..<dirs).map { "_l\(k)" + ($0 == 1 ? "_reverse" : "") }
            let inputSize = inputSize(layer: k)
            let W = b.derived(sfx.map { b.parameter("weight_ih" + $0) }, dims: [dirs, G, inputSize]) { v in
                v.flatMap { reorder($0, width: inputSize) }
            }
            let R = b.derived(sfx.map { b.parameter("weight_hh" + $0) }, dims: [dirs, G, H]) { v in
                v.flatMap { reorder($0, width: H) }
            }
            // A single bias (Keras') is ONNX's Wb with a zero Rb.
            let B = singleBias
                ? b.derived(sfx.map { b.parameter("bias_ih" + $0) }, dims: [dirs, 2 * G]) { v in
                    v.flatMap { reorder($0, width: 1, add: folded) + [Float](repeating: 0, count: G) }
                }
                : b.derived(sfx.flatMap { [b.parameter("bias_ih" + $0), b.parameter("bias_hh" + $0)] },
                            dims: [dirs, 2 * G]) { v in
                    stride(from: 0, to: v.count, by: 2).flatMap { reorder(v[$0], width: 1, add: folded)
                        + reorder(v[$0 + 1], width: 1) }
                }
            var inputs = [x, W, R, B]
            if peepholes {
                inputs += ["", "", "", b.derived(sfx.flatMap { s in ["i", "o", "f"].map { b.parameter("weight_peep_\($0)" + s) } },
                                                 dims: [dirs, 3 * H]) { $0.flatMap { $0 } }]
            }
            let outs = b.add(op, inputs, outputs: 2, attributes + [
                ("hidden_size", .int(H)), ("direction", .string(dirs == 2 ? "bidirectional" : "forward"))])
            last = (outs[0], outs[1])
            // Y: [T, dirs, N, H] → [T, N, dirs·H], the next layer's input.
            x = b.add("Reshape", [b.add("Transpose", [outs[0]], [("perm", .ints([0, 2, 1, 3]))]),
                                  b.constant(int64s: [0, 0, dirs * H])])
        }
        if returnSequences {
            b.add("Transpose", [x], final: true, [("perm", .ints([1, 0, 2]))])
        } else {
            // Y_h: [dirs, N, H] → [N, dirs·H], forward then backward as PyTorch's h_n.
            b.add("Reshape", [b.add("Transpose", [last.h], [("perm", .ints([1, 0, 2]))]),
                              b.constant(int64s: [0, dirs * H])], final: true)
        }
    }
}

/// Token indices (floats in cnnctl) cast to int64 and gathered from the table.
extension Embedding: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let indices = b.add("Cast", [b.inputs[0]], [("to", .int(7))])
        b.add("Gather", [b.parameter("weight"), indices], final: true, [("axis", .int(0))])
    }
}
