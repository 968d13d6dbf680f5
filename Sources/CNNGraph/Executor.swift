import CNNCore
import CNNLayers

/// Runs a graph: one topological order, parameters and their gradients in two flat arenas
/// (so optimizers and checkpoints are one loop each, as in llm.c), one activation and one
/// activation-gradient buffer per node sized for the largest batch, each layer's saved state in
/// one arena, and one shared workspace.
/// Everything is allocated here, once: the model input is copied into a buffer of its own so
/// that every node's argument lists can be built once per batch size, and a step then allocates
/// nothing. Backward zeroes the activation gradients and lets layers add into them, so a fork
/// (a value read by several nodes) sums its gradients without split nodes; a gradient with a
/// single writer that can overwrite it is written instead, and not zeroed.
///
/// `ExecutionPlan` decides which nodes run inside others: an activation that alone reads an
/// `ActivationFusing` layer's output (conv → relu, batch norm → relu, add → relu) runs inside
/// that layer's forward and in place, and its backward inside the layer's backward (the two nodes
/// share their output and gradient buffers, which saves a pass over memory each way and the
/// buffers); at inference a batch norm runs inside the convolution before it.
public final class Executor {
    public let graph: Graph
    public let maxBatch: Int
    /// The worker pool the layers split their work between.
    public let pool: WorkerPool
    /// All parameters, in `graph.parameters` order.
    public let parameters: Tensor
    public let gradients: Tensor
    /// Offset of each of `graph.parameters` in the arenas.
    public let parameterOffsets: [Int]
    /// When set, every node's forward and backward time is added to it (see `ExecutionProfile`).
    public var profile: ExecutionProfile?
    /// Inference folds each per-channel affine map (batch norm) that alone reads an
    /// `AffineAbsorbing` layer's output (a convolution's) into that layer's output pass; off,
    /// every node runs as written.
    public var foldsAffines = true
    /// Sums batch-norm statistics over the processes of a data-parallel run in training
    /// (`train.sync_batchnorm`); nil keeps each process's own.
    public var statisticsReducer: (any StatisticsReducer)?

    /// The layers (batch norms) that inference folds into the layer before them.
    public var foldedAffines: [String] {
        graph.nodes.indices.filter { plan[$0].foldedAway }.map { graph.nodes[$0].layer.name }
    }

    /// The activations that run inside the layer before them, in place.
    public var fusedActivations: [String] {
        graph.nodes.indices.filter { plan[$0].runsInPlace != nil }.map { graph.nodes[$0].layer.name }
    }

    /// The layer whose forward applies node `i` (a fused activation), or nil.
    public func fusingLayer(ofNode i: Int) -> String? {
        plan[i].runsInPlace.map { graph.nodes[$0].layer.name }
    }

    private let plan: ExecutionPlan
    private let input: Tensor
    private let activations: [Tensor]
    private let activationGradients: [Tensor]
    private let workspace: Tensor
    /// Every node's saved state (`Layer.savedStateFloats` for `maxBatch`), each region starting
    /// on a cache line, and each node's view of it and of the state it reads through edges.
    private let savedArena: Tensor
    private let saved: [SavedState]
    private let stateInputs: [[SavedState]]
    private var bound: BoundViews

    /// Views of the first `batch` samples of every buffer, and each node's argument lists.
    private struct BoundViews {
        var batch: Int
        var input: Tensor
        var outputs: [Tensor]
        var gradients: [Tensor]
        var nodeInputs: [[Tensor]]
        var nodeInputGradients: [[Tensor?]]
        var modelOutputs: [Tensor]
    }

    /// Binds the graph's layers to this executor's memory (one executor per graph).
    /// `fusesActivations: false` runs every activation as a node of its own (for comparisons).
    public init(graph: Graph, maxBatch: Int, seed: UInt64 = 1, fusesActivations: Bool = true,
                pool: WorkerPool = .shared) {
        precondition(!graph.hasExecutor, "graph \(graph.name) already runs under another executor; build it again")
        graph.hasExecutor = true
        self.graph = graph
        self.maxBatch = maxBatch
        self.pool = pool
        let specs = graph.parameters
        var offsets: [Int] = [], total = 0
        for p in specs { offsets.append(total); total += p.spec.shape.count }
        parameterOffsets = offsets
        let parameters = Tensor(shape: [total]), gradients = Tensor(shape: [total])
        self.parameters = parameters
        self.gradients = gradients
        var k = 0
        for node in graph.nodes {
            let local = node.layer.parameterSpecs
            let values = local.indices.map { parameters.view(offsets[k + $0], local[$0].shape) }
            let grads = local.indices.map { gradients.view(offsets[k + $0], local[$0].shape) }
            node.layer.bind(parameters: values, gradients: grads)
            k += local.count
        }
        let plan = ExecutionPlan(graph, fusesActivations: fusesActivations)
        self.plan = plan
        input = Tensor(shape: graph.inputShape.batched(maxBatch))
        var activations: [Tensor] = [], activationGradients: [Tensor] = []
        for (j, node) in graph.nodes.enumerated() {
            if let i = plan[j].runsInPlace {
                activations.append(activations[i])
                activationGradients.append(activationGradients[i])
            } else {
                activations.append(Tensor(shape: node.layer.outputShape.batched(maxBatch)))
                activationGradients.append(Tensor(shape: node.layer.outputShape.batched(maxBatch)))
            }
        }
        self.activations = activations
        self.activationGradients = activationGradients
        workspace = Tensor(shape: [max(1, graph.nodes.map { $0.layer.workspaceSize(batch: maxBatch) }.max() ?? 0)])
        let words = graph.nodes.map { ($0.layer.savedStateFloats(batch: maxBatch) + 15) / 16 * 16 }
        savedArena = Tensor(shape: [max(1, words.reduce(0, +))])
        var saved: [SavedState] = [], offset = 0
        for w in words {
            saved.append(w == 0 ? .none : SavedState(UnsafeMutableRawPointer(savedArena.data + offset), words: w))
            offset += w
        }
        self.saved = saved
        stateInputs = graph.nodes.map { $0.stateInputs.map { saved[$0] } }
        bound = Self.bind(graph, batch: maxBatch, input: input, activations: activations,
                          activationGradients: activationGradients)
        initializeParameters(seed: seed)
    }

    /// The nodes whose backward overwrites their input gradient (see `plan`).
    public var overwritingNodes: [String] {
        graph.nodes.indices.filter { plan[$0].overwritesInputGradient }.map { graph.nodes[$0].layer.name }
    }

    /// Fills every parameter from its initializer with one seeded generator, in name order.
    public func initializeParameters(seed: UInt64) {
        var rng = RNG(seed: seed)
        for (i, p) in graph.parameters.enumerated() {
            p.spec.initializer.fill(parameters.view(parameterOffsets[i], p.spec.shape), rng: &rng)
        }
    }

    /// The value tensor of a named parameter (`conv1.weight`), as a view into the arena.
    public func parameter(named name: String) -> Tensor? {
        graph.parameters.firstIndex { $0.name == name }.map {
            parameters.view(parameterOffsets[$0], graph.parameters[$0].spec.shape)
        }
    }

    /// Runs every node on `input` (`[n] + graph.inputShape`, n ≤ maxBatch); returns the outputs.
    @discardableResult
    public func forward(_ input: Tensor, training: Bool, rng: inout RNG) -> [Tensor] {
        let n = input.shape[0]
        precondition(n <= maxBatch && input.shape.dims.dropFirst().elementsEqual(graph.inputShape.dims),
                     "input \(input.shape) does not fit batch ≤ \(maxBatch) of \(graph.inputShape)")
        let b = views(batch: n)
        if input.data != b.input.data { b.input.data.update(from: input.data, count: input.count) }
        var context = ExecutionContext(isTraining: training, rng: rng, workspace: workspace.data,
                                       workspaceCount: workspace.count, pool: pool)
        if training { context.statisticsReducer = statisticsReducer }
        let nodes = graph.nodes, folds = !training && foldsAffines
        for i in nodes.indices {
            let start = profile == nil ? 0 : MonotonicClock.seconds()
            if plan[i].runsInPlace != nil || folds && plan[i].foldedAway { continue }
            context.saved = saved[i]
            context.stateInputs = stateInputs[i]
            if folds, let (layer, affine, target, buffer) = plan[i].fold {
                let c = buffer.shape[1]
                affine.inferenceAffine(scale: buffer.data, shift: buffer.data + c)
                layer.forward(inputs: b.nodeInputs[i], output: b.outputs[target], scale: buffer.data,
                              shift: buffer.data + c, epilogue: plan[target].epilogue?.activation, context: &context)
            } else if let (layer, activation) = plan[i].epilogue {
                layer.forward(inputs: b.nodeInputs[i], output: b.outputs[i], epilogue: activation, context: &context)
            } else {
                nodes[i].layer.forward(inputs: b.nodeInputs[i], output: b.outputs[i], context: &context)
            }
            profile?.add(forward: i, MonotonicClock.seconds() - start)
        }
        profile?.finishForward()
        rng = context.rng
        return b.modelOutputs
    }

    /// Back-propagates `outputGradients` (one per graph output, same shapes as `forward`'s
    /// results) through the last forward pass, whose input `input` was; adds into the parameter
    /// gradients.
    public func backward(_ input: Tensor, outputGradients: [Tensor], rng: inout RNG) {
        let b = views(batch: input.shape[0])
        for i in b.gradients.indices where plan[i].runsInPlace == nil && !plan[i].gradientOverwritten {
            pool.forEachRange(b.gradients[i].count, Zeroing(data: b.gradients[i].data))
        }
        for (k, i) in graph.outputs.enumerated() {
            let g = b.gradients[i], dy = outputGradients[k]
            for j in 0..<g.count { g.data[j] += dy.data[j] }
        }
        var context = ExecutionContext(isTraining: true, rng: rng, workspace: workspace.data,
                                       workspaceCount: workspace.count, pool: pool)
        context.statisticsReducer = statisticsReducer
        let nodes = graph.nodes
        // An activation run in place is back-propagated by its producer, later in this loop.
        for i in nodes.indices.reversed() where plan[i].runsInPlace == nil {
            let start = profile == nil ? 0 : MonotonicClock.seconds()
            context.overwritesInputGradient = plan[i].overwritesInputGradient
            context.saved = saved[i]
            context.stateInputs = stateInputs[i]
            if let (layer, activation) = plan[i].epilogue {
                layer.backward(inputs: b.nodeInputs[i], output: b.outputs[i], outputGradient: b.gradients[i],
                               inputGradients: b.nodeInputGradients[i], through: activation, context: &context)
            } else {
                nodes[i].layer.backward(inputs: b.nodeInputs[i], output: b.outputs[i],
                                        outputGradient: b.gradients[i], inputGradients: b.nodeInputGradients[i],
                                        context: &context)
            }
            profile?.add(backward: i, MonotonicClock.seconds() - start)
        }
        profile?.finishBackward()
        rng = context.rng
    }

    public func zeroGradients() { gradients.zero() }

    /// Node `i`'s output buffer for a batch of `batch`, as the last forward pass left it. Where the
    /// plan fuses an activation into a node or folds a batch norm into it, the buffer holds the
    /// fused result; an executor built with `fusesActivations: false` and `foldsAffines` off
    /// keeps every node's own output.
    public func output(ofNode i: Int, batch: Int) -> Tensor { views(batch: batch).outputs[i] }

    /// The first node, in forward order, whose output for the last batch of `n` holds a NaN or an
    /// infinity: where a divergence started.
    public func firstNonFiniteOutput(batch n: Int) -> String? {
        let out = views(batch: n).outputs
        return graph.nodes.indices.first { !out[$0].isFinite }.map { graph.nodes[$0].layer.name }
    }

    /// The first parameter whose gradient holds a NaN or an infinity.
    public func firstNonFiniteGradient() -> String? {
        let specs = graph.parameters
        return specs.indices.first { !gradients.view(parameterOffsets[$0], specs[$0].spec.shape).isFinite }
            .map { specs[$0].name }
    }

    /// The bound views for a batch of `n`, rebuilt only when `n` changes.
    private func views(batch n: Int) -> BoundViews {
        if bound.batch != n {
            bound = Self.bind(graph, batch: n, input: input, activations: activations,
                              activationGradients: activationGradients)
        }
        return bound
    }

    private static func bind(_ graph: Graph, batch n: Int, input: Tensor, activations: [Tensor],
                             activationGradients: [Tensor]) -> BoundViews {
        let x = input.prefix(n), outputs = activations.map { $0.prefix(n) }
        let gradients = activationGradients.map { $0.prefix(n) }
        return BoundViews(
            batch: n, input: x, outputs: outputs, gradients: gradients,
            nodeInputs: graph.nodes.map { $0.inputs.map { $0 == Node.modelInput ? x : outputs[$0] } },
            nodeInputGradients: graph.nodes.map { $0.inputs.map { $0 == Node.modelInput ? nil : gradients[$0] } },
            modelOutputs: graph.outputs.map { outputs[$0] })
    }
}

/// Zeroes its share of an activation gradient: split between the pool's threads, because one
/// thread's memset of them all was 3.5% of a ResNet-20 training step.
private struct Zeroing: RangeWork {
    let data: UnsafeMutablePointer<Float>
    func run(_ range: Range<Int>) { (data + range.lowerBound).update(repeating: 0, count: range.count) }
}

extension Tensor {
    /// A view of `shape.count` floats starting at element `offset`.
    func view(_ offset: Int, _ shape: Shape) -> Tensor {
        Tensor(shape: shape, viewing: data + offset, owner: self)
    }

    /// The first `n` samples of a batched tensor, as a view.
    func prefix(_ n: Int) -> Tensor {
        Tensor(shape: shape.sample.batched(n), viewing: data, owner: self)
    }
}
