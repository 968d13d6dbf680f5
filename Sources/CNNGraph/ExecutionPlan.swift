import CNNCore
import CNNLayers

/// The one planning pass over a graph: which nodes run inside another (activation fusion,
/// inference folding of per-channel affine maps) and which gradient buffers are written rather
/// than summed into (so need no zeroing). It decides from the layers' capabilities
/// (`ActivationFusing`, `AffineAbsorbing`, `InferenceAffine`, `canOverwriteInputGradient`),
/// never from their concrete types; the `Executor` carries the decisions out.
///
/// Only a node's single reader may take it over, and only if the node is no model output.
struct ExecutionPlan {
    /// How one node runs when it does not simply run as written.
    struct Node {
        /// An inference affine (batch norm) that its producer applies at inference.
        var foldedAway = false
        /// This node applies the inference affine of node `target`, which alone reads it, at
        /// inference, writing `target`'s output; `affine` holds the map's scale and shift.
        var fold: (layer: any AffineAbsorbing, affine: any InferenceAffine, target: Int, buffer: Tensor)?
        /// The activation this node applies to its own output, and this node as the fusing kind.
        var epilogue: (layer: any ActivationFusing, activation: Activation)?
        /// An activation applied by node `runsInPlace` (whose buffers it shares).
        var runsInPlace: Int?
        /// This node's output gradient has one writer, which overwrites it: it is not zeroed.
        var gradientOverwritten = false
        /// This node writes its one input's gradient instead of adding into it.
        var overwritesInputGradient = false
    }

    let nodes: [Node]

    /// `fusesActivations: false` runs every activation as a node of its own (for comparisons).
    init(_ graph: Graph, fusesActivations: Bool) {
        var readers = Array(repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for i in node.inputs where i != CNNGraph.Node.modelInput { readers[i] += 1 } }
        var plan = Array(repeating: Node(), count: graph.nodes.count)
        for (j, node) in graph.nodes.enumerated() {
            guard node.inputs.count == 1, let i = node.inputs.first, i != CNNGraph.Node.modelInput, readers[i] == 1,
                  !graph.outputs.contains(i) else { continue }
            if let affine = node.layer as? any InferenceAffine, let channels = affine.affineChannels,
               let producer = graph.nodes[i].layer as? any AffineAbsorbing, producer.outputChannels == channels {
                plan[i].fold = (producer, affine, j, Tensor(shape: [2, channels]))
                plan[j].foldedAway = true
            }
            if fusesActivations, let activation = node.layer as? Activation, activation.worksInPlace,
               let producer = graph.nodes[i].layer as? any ActivationFusing {
                plan[i].epilogue = (producer, activation)
                plan[j].runsInPlace = i
            }
        }
        // Who adds into each gradient buffer (an in-place activation's readers write its
        // producer's, and the activation itself is back-propagated by the producer). A buffer with
        // one writer that can overwrite it needs no zeroing.
        var writers = Array(repeating: [Int](), count: graph.nodes.count)
        for (j, node) in graph.nodes.enumerated() where plan[j].runsInPlace == nil {
            for i in node.inputs where i != CNNGraph.Node.modelInput { writers[plan[i].runsInPlace ?? i].append(j) }
        }
        for p in graph.nodes.indices where plan[p].runsInPlace == nil {
            guard writers[p].count == 1, let j = writers[p].first, graph.nodes[j].inputs.count == 1,
                  graph.nodes[j].layer.canOverwriteInputGradient,
                  !graph.outputs.contains(where: { $0 == p || plan[$0].runsInPlace == p }) else { continue }
            plan[p].gradientOverwritten = true
            plan[j].overwritesInputGradient = true
        }
        nodes = plan
    }

    subscript(i: Int) -> Node { nodes[i] }
}
