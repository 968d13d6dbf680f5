import CNNCore

/// A layer's inference computation as ONNX operators (opset 17) for `cnnctl export`: each layer
/// type that ONNX can express says how, in its own file under `Export/`; the exporter
/// (CNNExport) walks the graph, collects the nodes and encodes the model. Tensors carry the
/// batch as their first dimension; a layer's parameters are initializers named as in its
/// checkpoint (`conv1.weight`).
public protocol ONNXExportable {
    func exportONNX(_ builder: inout ONNXNodeBuilder) throws
}

public enum ONNXAttribute: Sendable, Equatable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])
}

public struct ONNXNode: Sendable {
    public let opType: String
    public let name: String
    public let inputs: [String]
    public let outputs: [String]
    public let attributes: [(name: String, value: ONNXAttribute)]

    public init(opType: String, name: String, inputs: [String], outputs: [String],
                attributes: [(name: String, value: ONNXAttribute)]) {
        self.opType = opType
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// A constant tensor the exported nodes need besides the parameters (a `Clip` bound, a shape).
public struct ONNXConstant: Sendable {
    public enum Values: Sendable {
        case floats([Float])
        case int64s([Int])
        /// Computed from the named parameters' values (reordered gates, folded biases).
        case derived(parameters: [String], transform: @Sendable ([[Float]]) -> [Float])
    }
    public let name: String
    public let dims: [Int]
    public let values: Values

    public init(name: String, dims: [Int], values: Values) {
        self.name = name
        self.dims = dims
        self.values = values
    }
}

/// What a layer writes its nodes into: its input and output value names, and fresh names for
/// what lies between.
public struct ONNXNodeBuilder {
    public let layerName: String
    /// Value names of the layer's inputs, batch-first tensors.
    public let inputs: [String]
    /// The value name its last node must write.
    public let output: String
    /// The value names of the saved state this layer reads (a max pool's indices, for
    /// `max_unpool2d`), with the value whose shape that layer's input had.
    public let stateInputs: [(indices: String, inputOfSource: String)]
    /// Whether another layer reads this layer's saved state: a max pool then also writes its
    /// indices, as `indicesOutput`.
    public let exportsState: Bool
    public private(set) var nodes: [ONNXNode] = []
    public private(set) var constants: [ONNXConstant] = []

    public init(layerName: String, inputs: [String], output: String,
                stateInputs: [(indices: String, inputOfSource: String)] = [], exportsState: Bool = false) {
        self.layerName = layerName
        self.inputs = inputs
        self.output = output
        self.stateInputs = stateInputs
        self.exportsState = exportsState
    }

    /// The value name of a layer's exported state (its max-pool indices).
    public static func stateOutput(of layer: String) -> String { "\(layer)/indices" }

    /// A node writing `output` and the layer's state output.
    public mutating func addWithState(_ opType: String, _ inputs: [String],
                                      _ attributes: [(name: String, value: ONNXAttribute)] = []) {
        nodes.append(ONNXNode(opType: opType, name: "\(layerName)/\(opType)_\(nodes.count)", inputs: inputs,
                              outputs: [output, Self.stateOutput(of: layerName)], attributes: attributes))
    }

    /// The initializer name of the layer's parameter `suffix` (`weight`, `running_mean`).
    public func parameter(_ suffix: String) -> String { "\(layerName).\(suffix)" }

    /// Adds a node; it writes `output` when `final`, else a fresh value whose name it returns.
    @discardableResult
    public mutating func add(_ opType: String, _ inputs: [String], final: Bool = false,
                             _ attributes: [(name: String, value: ONNXAttribute)] = []) -> String {
        let out = final ? output : "\(layerName)/\(opType.lowercased())_\(nodes.count)"
        nodes.append(ONNXNode(opType: opType, name: "\(layerName)/\(opType)_\(nodes.count)", inputs: inputs,
                              outputs: [out], attributes: attributes))
        return out
    }

    /// A node with several outputs (all fresh values), whose names it returns.
    public mutating func add(_ opType: String, _ inputs: [String], outputs count: Int,
                             _ attributes: [(name: String, value: ONNXAttribute)] = []) -> [String] {
        let outs = (0..<count).map { "\(layerName)/\(opType.lowercased())_\(nodes.count)_\($0)" }
        nodes.append(ONNXNode(opType: opType, name: "\(layerName)/\(opType)_\(nodes.count)", inputs: inputs,
                              outputs: outs, attributes: attributes))
        return outs
    }

    /// A float initializer computed from parameters' values when the model is written.
    public mutating func derived(_ parameters: [String], dims: [Int],
                                 _ transform: @escaping @Sendable ([[Float]]) -> [Float]) -> String {
        let name = "\(layerName)/constant_\(constants.count)"
        constants.append(ONNXConstant(name: name, dims: dims, values: .derived(parameters: parameters,
                                                                              transform: transform)))
        return name
    }

    /// A float constant's initializer name.
    public mutating func constant(_ values: [Float], dims: [Int]) -> String {
        let name = "\(layerName)/constant_\(constants.count)"
        constants.append(ONNXConstant(name: name, dims: dims, values: .floats(values)))
        return name
    }

    /// An int64 constant's initializer name (shapes, axes).
    public mutating func constant(int64s values: [Int]) -> String {
        let name = "\(layerName)/constant_\(constants.count)"
        constants.append(ONNXConstant(name: name, dims: [values.count], values: .int64s(values)))
        return name
    }
}

/// A layer that cannot be exported as configured: `conv (conv2d): cannot be exported to ONNX: …`.
public struct ONNXExportError: LocatedError {
    public let layer: String
    public let message: String
    public var location: String? { nil }

    public init(layer: String, _ message: String) {
        self.layer = layer
        self.message = "\(layer): cannot be exported to ONNX: \(message)"
    }
}
