import CNNCore
import CNNLayers

/// A built network: primitive nodes in topological order (every node's inputs come earlier).
public final class Graph {
    public let name: String
    /// What the model follows (paper, reference implementation), from the spec.
    public let description: String?
    public let inputShape: Shape
    public let nodes: [Node]
    /// Nodes whose outputs are the model's outputs (the main head first, then auxiliary heads).
    public let outputs: [Int]
    public let file: String?
    /// Layers hold views into one executor's memory, so a graph runs under one executor.
    var hasExecutor = false

    init(name: String, description: String?, inputShape: Shape, nodes: [Node], outputs: [Int], file: String?) {
        self.name = name
        self.description = description
        self.inputShape = inputShape
        self.nodes = nodes
        self.outputs = outputs
        self.file = file
    }

    public func node(named name: String) -> Node? { nodes.first { $0.layer.name == name } }

    /// Floats of all parameters and running statistics.
    public var parameterCount: Int { nodes.reduce(0) { $0 + $1.layer.parameterCount } }

    /// Every parameter of every layer with its full name (`layer1.0.conv1.weight`), in bind order.
    public var parameters: [(name: String, spec: ParameterSpec, node: Int)] {
        nodes.enumerated().flatMap { i, node in
            node.layer.parameterSpecs.map { ("\(node.layer.name).\($0.name)", $0, i) }
        }
    }
}

/// One primitive layer in the graph.
public struct Node {
    public static let modelInput = -1

    public let layer: any Layer
    /// Node indices of the inputs; `Node.modelInput` is the model's input.
    public let inputs: [Int]
    /// Node indices whose saved state this node reads (max_unpool2d: its pool's argmax).
    public let stateInputs: [Int]
    /// The composite blocks this node was expanded from, outermost first.
    public let blocks: [BlockFrame]
    /// Output-size arithmetic that did not divide evenly (shown on this node's row).
    public let notes: [String]
}

/// A composite block instance: its full name (`layer1.0`) and type (`residual`).
public struct BlockFrame: Equatable, Sendable {
    public let name: String
    public let type: String
}
