import CNNCore
import CNNLayers

/// The structure report of a graph (what `cnnctl summarize` prints): one row per primitive layer
/// plus one per composite block (aggregated), then totals.
///
/// Counting conventions, as torchinfo: parameters are learned values only (PyTorch's
/// `parameters()`); batch-norm running statistics are reported apart as non-trainable state.
/// MACs are per sample and include bias adds: a layer with parameters contributes
/// (weights + biases) × output positions for convolutions, and its parameter count per sample
/// (per time step for recurrent layers) otherwise — torchinfo's mult-adds divided by the batch.
public struct SummaryReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var name: String
        public var type: String
        public var depth: Int
        public var isBlock: Bool
        public var outputShape: [Int]
        public var params: Int
        public var state: Int
        public var macs: Int
        public var notes: [String]
        public var details: String?

        enum CodingKeys: String, CodingKey {
            case name, type, depth, outputShape = "output_shape", params, state = "non_trainable_state", macs, notes, details
        }
    }

    public struct ReceptiveField: Sendable, Encodable {
        public var node: String
        public var height: Int, width: Int
        public var jumpHeight: Int, jumpWidth: Int

        enum CodingKeys: String, CodingKey {
            case node, height, width, jumpHeight = "jump_height", jumpWidth = "jump_width"
        }
    }

    public var model: String
    public var description: String?
    public var inputShape: [Int]
    public var outputShapes: [[Int]]
    public var batch: Int
    public var layers: [Row]
    public var blocks: [Row]
    public var totalParams: Int
    public var trainableParams: Int
    public var nonTrainableParams: Int
    public var nonTrainableState: Int
    public var totalMACs: Int
    public var parameterBytes: Int
    public var activationBytes: Int
    /// What layers keep from forward for backward besides the outputs (`Layer.savedStateFloats`),
    /// for the batch.
    public var savedStateBytes: Int
    /// The scratch memory every layer shares (the largest layer's need, not a sum), for the batch.
    public var workspaceBytes: Int
    public var receptiveField: ReceptiveField?

    enum CodingKeys: String, CodingKey {
        case model, description, inputShape = "input_shape", outputShapes = "output_shapes", batch
        case totalParams = "total_params", trainableParams = "trainable_params"
        case nonTrainableParams = "non_trainable_params", nonTrainableState = "non_trainable_state"
        case totalMACs = "total_macs", parameterBytes = "parameter_bytes"
        case activationBytes = "activation_bytes", savedStateBytes = "saved_state_bytes"
        case workspaceBytes = "workspace_bytes"
        case receptiveField = "receptive_field", layers, blocks
    }

    /// Layers and blocks interleaved in graph order (each block right before its first layer),
    /// as (isBlock, index into `blocks` or `layers`).
    public var order: [(isBlock: Bool, index: Int)] = []

    public var rows: [Row] { order.map { $0.isBlock ? blocks[$0.index] : layers[$0.index] } }
}

public enum Summary {
    public static func make(_ graph: Graph, batch: Int = 1) -> SummaryReport {
        var layers: [SummaryReport.Row] = []
        var blockRows: [String: SummaryReport.Row] = [:], blockOrder: [String] = []
        var order: [(isBlock: Bool, index: Int)] = []
        var trainable = 0, state = 0, macs = 0, activations = 0, saved = 0, workspace = 0
        for node in graph.nodes {
            let l = node.layer
            let p = l.parameterSpecs.filter(\.isTrainable).reduce(0) { $0 + $1.shape.count }
            let s = l.parameterCount - p
            trainable += p; state += s; macs += l.macs
            activations += l.outputShape.count
            saved += l.savedStateFloats(batch: batch)
            workspace = max(workspace, l.workspaceSize(batch: batch))
            for (depth, frame) in node.blocks.enumerated() {
                if blockRows[frame.name] == nil {
                    order.append((true, blockOrder.count))
                    blockOrder.append(frame.name)
                    blockRows[frame.name] = .init(name: frame.name, type: frame.type, depth: depth, isBlock: true,
                                                  outputShape: [], params: 0, state: 0, macs: 0, notes: [], details: nil)
                }
                blockRows[frame.name]!.params += p
                blockRows[frame.name]!.state += s
                blockRows[frame.name]!.macs += l.macs
                blockRows[frame.name]!.outputShape = l.outputShape.dims
                blockRows[frame.name]!.notes += node.notes.map { "\(l.name): \($0)" }
            }
            order.append((false, layers.count))
            layers.append(.init(name: l.name, type: l.type, depth: node.blocks.count, isBlock: false,
                                outputShape: l.outputShape.dims, params: p, state: s, macs: l.macs,
                                notes: node.notes, details: l.details))
        }
        return SummaryReport(
            model: graph.name, description: graph.description, inputShape: graph.inputShape.dims,
            outputShapes: graph.outputs.map { graph.nodes[$0].layer.outputShape.dims }, batch: batch,
            layers: layers, blocks: blockOrder.map { blockRows[$0]! },
            totalParams: trainable, trainableParams: trainable, nonTrainableParams: 0, nonTrainableState: state,
            totalMACs: macs, parameterBytes: 4 * (trainable + state), activationBytes: 4 * batch * activations,
            savedStateBytes: 4 * saved, workspaceBytes: 4 * workspace,
            receptiveField: receptiveField(graph), order: order)
    }

    /// Receptive field and jump (effective stride) of the last node with a spatial output:
    /// through a window, r ← r + (F_eff − 1)·j and j ← j·S; nodes without a window (elementwise,
    /// add, concat, norm) take the largest of their inputs (Araujo et al. 2019, "Computing
    /// Receptive Fields of Convolutional Neural Networks").
    static func receptiveField(_ graph: Graph) -> SummaryReport.ReceptiveField? {
        typealias Field = (r: (Int, Int), j: (Int, Int))
        var fields: [Field?] = []
        var last: SummaryReport.ReceptiveField?
        let start: Field? = graph.inputShape.rank == 3 ? (r: (1, 1), j: (1, 1)) : nil
        for node in graph.nodes {
            let ins = node.inputs.map { $0 == Node.modelInput ? start : fields[$0] }.compactMap { $0 }
            var field: Field?
            if node.layer.outputShape.rank == 3, let first = ins.first {
                var r = first.r, j = first.j
                for f in ins.dropFirst() { r = (max(r.0, f.r.0), max(r.1, f.r.1)); j = (max(j.0, f.j.0), max(j.1, f.j.1)) }
                if let w = node.layer.window {
                    r = (r.0 + w.dilationH * (w.kernelH - 1) * j.0, r.1 + w.dilationW * (w.kernelW - 1) * j.1)
                    j = (j.0 * w.strideH, j.1 * w.strideW)
                }
                field = (r, j)
                last = .init(node: node.layer.name, height: r.0, width: r.1, jumpHeight: j.0, jumpWidth: j.1)
            }
            fields.append(field)
        }
        return last
    }
}
