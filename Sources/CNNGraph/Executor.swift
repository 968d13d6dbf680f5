import CNNCore
import CNNLayers

/// Runs a graph: one topological order, parameters and their gradients in two flat arenas
/// (so optimizers and checkpoints are one loop each, as in llm.c), one activation and one
/// activation-gradient buffer per node sized for the largest batch, and one shared workspace.
/// Everything is allocated here, once; a step allocates nothing but the views for a new batch
/// size. Backward zeroes the activation gradients and lets layers add into them, so a fork
/// (a value read by several nodes) sums its gradients without split nodes.
public final class Executor {
    public let graph: Graph
    public let maxBatch: Int
    /// All parameters, in `graph.parameters` order.
    public let parameters: Tensor
    public let gradients: Tensor
    /// Offset of each of `graph.parameters` in the arenas.
    public let parameterOffsets: [Int]
    private let activations: [Tensor]
    private let activationGradients: [Tensor]
    private let workspace: Tensor
    private var views: (batch: Int, outputs: [Tensor], gradients: [Tensor])

    /// Binds the graph's layers to this executor's memory (one executor per graph).
    public init(graph: Graph, maxBatch: Int, seed: UInt64 = 1) {
        precondition(!graph.hasExecutor, "graph \(graph.name) already runs under another executor; build it again")
        graph.hasExecutor = true
        self.graph = graph
        self.maxBatch = maxBatch
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
        activations = graph.nodes.map { Tensor(shape: $0.layer.outputShape.batched(maxBatch)) }
        activationGradients = graph.nodes.map { Tensor(shape: $0.layer.outputShape.batched(maxBatch)) }
        workspace = Tensor(shape: [max(1, graph.nodes.map { $0.layer.workspaceSize(batch: maxBatch) }.max() ?? 0)])
        views = (maxBatch, activations, activationGradients)
        initializeParameters(seed: seed)
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
        precondition(n <= maxBatch && input.shape.sample == graph.inputShape,
                     "input \(input.shape) does not fit batch ≤ \(maxBatch) of \(graph.inputShape)")
        let out = outputs(batch: n)
        var context = ExecutionContext(isTraining: training, rng: rng, workspace: workspace.data,
                                       workspaceCount: workspace.count)
        for (i, node) in graph.nodes.enumerated() {
            node.layer.forward(inputs: node.inputs.map { $0 == Node.modelInput ? input : out[$0] },
                               output: out[i], context: &context)
        }
        rng = context.rng
        return graph.outputs.map { out[$0] }
    }

    /// Back-propagates `outputGradients` (one per graph output, same shapes as `forward`'s
    /// results) through the last forward pass; adds into the parameter gradients.
    public func backward(_ input: Tensor, outputGradients: [Tensor], rng: inout RNG) {
        let n = input.shape[0]
        let out = outputs(batch: n), grads = views.gradients
        for g in grads { g.zero() }
        for (k, i) in graph.outputs.enumerated() {
            let g = grads[i], dy = outputGradients[k]
            for j in 0..<g.count { g.data[j] += dy.data[j] }
        }
        var context = ExecutionContext(isTraining: true, rng: rng, workspace: workspace.data,
                                       workspaceCount: workspace.count)
        for i in graph.nodes.indices.reversed() {
            let node = graph.nodes[i]
            node.layer.backward(inputs: node.inputs.map { $0 == Node.modelInput ? input : out[$0] },
                                output: out[i], outputGradient: grads[i],
                                inputGradients: node.inputs.map { $0 == Node.modelInput ? nil : grads[$0] },
                                context: &context)
        }
        rng = context.rng
    }

    public func zeroGradients() { gradients.zero() }

    /// The first node, in forward order, whose output for the last batch of `n` holds a NaN or an
    /// infinity: where a divergence started.
    public func firstNonFiniteOutput(batch n: Int) -> String? {
        let out = outputs(batch: n)
        return graph.nodes.indices.first { !out[$0].isFinite }.map { graph.nodes[$0].layer.name }
    }

    /// The first parameter whose gradient holds a NaN or an infinity.
    public func firstNonFiniteGradient() -> String? {
        let specs = graph.parameters
        return specs.indices.first { !gradients.view(parameterOffsets[$0], specs[$0].spec.shape).isFinite }
            .map { specs[$0].name }
    }

    /// Views of the first `n` samples of every node's buffers, rebuilt only when `n` changes.
    private func outputs(batch n: Int) -> [Tensor] {
        if views.batch != n {
            views = (n, activations.map { $0.prefix(n) }, activationGradients.map { $0.prefix(n) })
        }
        return views.outputs
    }
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
