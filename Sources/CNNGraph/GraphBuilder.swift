import CNNConfig
import CNNCore
import CNNLayers

/// Turns a model spec into a `Graph`: walks the layer list, expands composite blocks, threads
/// each output shape into the next layer (as Darknet's parser does) and checks everything
/// against the file, so errors name the key path of the entry that is wrong.
///
/// An entry is `{"type": T, "name": N, "inputs": [..], "activation": A, ...keys of T}`. Without
/// `inputs` an entry reads the previous entry's output. `activation` adds an activation node
/// after any layer or block (named `N_A`).
public struct GraphBuilder {
    public let file: String?
    public let strictShapes: Bool
    private(set) var nodes: [Node] = []
    private var indexByName: [String: Int] = [:]
    /// The output node of each block entry (and template use) added so far, by its full name:
    /// blocks share the node namespace, and naming one as an input means its output.
    private var blockOutputs: [String: Int] = [:]
    private let inputShape: Shape
    /// Enclosing blocks of the entries being added, outermost first.
    private(set) var frames: [BlockFrame] = []
    /// The model's `"define"`d templates, and the ones being expanded (to refuse recursion).
    private var templates: [String: Template] = [:]
    private var expandingTemplates: [String] = []

    /// The keys every entry may carry besides its type's own.
    static let entryKeys = ["type", "name", "inputs", "activation"]

    /// The optional kernels every layer may choose.
    let kernels: KernelOptions

    init(inputShape: Shape, file: String?, strictShapes: Bool, kernels: KernelOptions = .environment) {
        self.inputShape = inputShape
        self.file = file
        self.strictShapes = strictShapes
        self.kernels = kernels
    }

    // MARK: - Building from a model spec

    /// Builds the graph of a model object:
    /// `{"name", "description"?, "input", "layers", "outputs"?, "strict_shapes"?}`, its layers
    /// choosing among `kernels`.
    public static func build(model: JSONValue, path: String = "model", file: String?,
                             kernels: KernelOptions = .environment) throws -> Graph {
        guard case .object(var object) = model else {
            throw ConfigError(file: file, place: path, message: "expected a model object, got \(model.kindName)")
        }
        guard let layers = object["layers"] else {
            throw ConfigError(file: file, place: path, message: "missing required key \"layers\"")
        }
        object["layers"] = nil
        let definitions = object["define"]
        object["define"] = nil
        let header = try ConfigDecoder.decode(ModelHeader.self, from: .object(object), path: path, file: file)
        guard !header.input.isEmpty, header.input.allSatisfy({ (1...Self.maximumElements).contains($0) }),
              let count = Shape(header.input).checkedCount, count <= Self.maximumElements else {
            throw ConfigError(file: file, place: "\(path).input",
                              message: "expected positive sizes such as [3, 32, 32] with at most "
                              + "\(Self.maximumElements) elements, got \(header.input)")
        }
        var builder = GraphBuilder(inputShape: Shape(header.input), file: file,
                                   strictShapes: header.strictShapes ?? false, kernels: kernels)
        if let definitions {
            builder.templates = try Template.parseDefinitions(definitions, path: "\(path).define", file: file,
                                                              reserved: Set(Registry.typeNames + activationTypes))
        }
        guard case .array(let entries) = layers, !entries.isEmpty else {
            throw ConfigError(file: file, place: "\(path).layers", message: "expected a non-empty list of layers")
        }
        let last = try builder.addSequence(entries.enumerated().map { ($1, "\(path).layers[\($0)]") },
                                           input: Node.modelInput, prefix: "")
        try DepthSchedule.apply(header.dropPath, to: builder.nodes, path: path, file: file)
        var outputs = [last]
        if let names = header.outputs {
            outputs = try names.enumerated().map { i, n in
                guard let index = builder.indexByName[n] else {
                    throw ConfigError(file: file, place: "\(path).outputs[\(i)]",
                                      message: "no node named \"\(n)\"" + builder.nameHint(n))
                }
                return index
            }
        }
        return Graph(name: header.name ?? "model", description: header.description,
                     inputShape: builder.inputShape, nodes: builder.nodes, outputs: outputs, file: file)
    }

    private struct ModelHeader: Decodable {
        var name: String?
        var input: [Int]
        var outputs: [String]?
        var strictShapes: Bool?
        var description: String?
        var dropPath: DepthSchedule?

        private enum CodingKeys: String, CodingKey {
            case name, input, outputs, strictShapes = "strict_shapes", description, dropPath = "drop_path"
        }
    }

    // MARK: - Adding entries (also the API blocks use)

    /// Adds entries one after another, each reading the previous output unless it names inputs.
    /// Names are prefixed with `prefix` (a block's name plus a dot). Returns the last output.
    mutating func addSequence(_ entries: [(JSONValue, String)], input: Int, prefix: String) throws -> Int {
        var current = input
        for (index, (entry, path)) in entries.enumerated() {
            current = try add(entry, path: path, input: current, prefix: prefix, index: index)
        }
        return current
    }

    /// Adds one entry (a primitive layer or a block) and returns the node that is its output.
    mutating func add(_ entry: JSONValue, path: String, input: Int, prefix: String, index: Int) throws -> Int {
        guard case .object(var object) = entry else {
            throw ConfigError(file: file, place: path, message: "expected a layer object, got \(entry.kindName)")
        }
        guard case .string(let type)? = object["type"] else {
            throw ConfigError(file: file, place: path, message: object["type"] == nil
                              ? "missing required key \"type\"" : "\"type\" must be a string")
        }
        var localName = "\(type)_\(index)"
        if let n = object["name"] {
            guard case .string(let s) = n, !s.isEmpty, !s.contains(" ") else {
                throw ConfigError(file: file, place: "\(path).name", message: "expected a non-empty name without spaces")
            }
            localName = s
        }
        let name = prefix + localName
        let place = "\(path) (\(type) \"\(localName)\")"
        guard indexByName[name] == nil, blockOutputs[name] == nil else {
            throw ConfigError(file: file, place: "\(place).name", message: "duplicate node name \"\(name)\"")
        }
        var inputs = [input]
        if let value = object["inputs"] {
            inputs = try resolveInputs(value, place: "\(place).inputs", prefix: prefix)
        }
        var activation: String?
        if let value = object["activation"] {
            guard case .string(let a) = value, Self.activationTypes.contains(a) else {
                throw ConfigError(file: file, place: "\(place).activation",
                                  message: "expected one of \(Self.activationTypes.joined(separator: ", "))"
                                  + (value.stringValue.map { Suggestion.hint(for: $0, among: Self.activationTypes) } ?? ""))
            }
            activation = a
        }
        let inputsValue = object["inputs"]
        for key in Self.entryKeys { object[key] = nil }

        var output: Int
        if let template = templates[type] {
            output = try expand(template, arguments: object, name: name, localName: localName, place: place,
                                inputsValue: inputsValue, inputs: inputs, prefix: prefix, index: index)
        } else {
            output = try addRegistered(type, object, name: name, place: place, path: path, inputs: inputs)
        }
        if let activation, let function = Activation.Function(rawValue: activation) {
            output = try addLayer(name: "\(name)_\(activation)", config: .object(JSONObject()), inputs: [output],
                                  place: "\(place).activation") { try Activation(function, context: &$0) }
        }
        if blockOutputs[name] != nil { blockOutputs[name] = output }
        return output
    }

    /// Adds a use of a template: its body with the use's arguments, as one entry under the use's
    /// name or as a block of entries.
    private mutating func expand(_ template: Template, arguments: JSONObject, name: String, localName: String,
                                 place: String, inputsValue: JSONValue?, inputs: [Int], prefix: String,
                                 index: Int) throws -> Int {
        guard !expandingTemplates.contains(template.name) else {
            throw ConfigError(file: file, place: place, message: "template \(template.name) uses itself: "
                              + (expandingTemplates + [template.name]).joined(separator: " → "))
        }
        expandingTemplates.append(template.name)
        defer { expandingTemplates.removeLast() }
        let body = try template.instantiate(arguments: arguments, place: place, file: file)
        let bodyPath = "\(place) → \(template.path).body"
        if case .object(var entry) = body {
            if inputsValue != nil && entry["inputs"] != nil {
                throw ConfigError(file: file, place: "\(place).inputs",
                                  message: "template \(template.name)'s body names its own inputs")
            }
            entry["name"] = .string(localName)
            entry["inputs"] = inputsValue ?? entry["inputs"]
            return try add(.object(entry), path: bodyPath, input: inputs[0], prefix: prefix, index: index)
        }
        guard inputs.count == 1 else {
            throw ConfigError(file: file, place: "\(place).inputs", message: "template \(template.name) takes exactly 1 input")
        }
        let entries = (body.arrayValue ?? []).enumerated().map { ($1, "\(bodyPath)[\($0)]") }
        blockOutputs[name] = Node.modelInput
        return try inBlock(BlockFrame(name: name, type: template.name)) { builder in
            try builder.addSequence(entries, input: inputs[0], prefix: name + ".")
        }
    }

    /// Adds an entry of a registered layer or block type.
    private mutating func addRegistered(_ type: String, _ object: JSONObject, name: String, place: String,
                                        path: String, inputs: [Int]) throws -> Int {
        let output: Int
        switch Registry.entry(for: type)?.kind {
        case .block(let block)?:
            guard inputs.count == 1 else {
                throw ConfigError(file: file, place: "\(place).inputs", message: "a \(type) block takes exactly 1 input")
            }
            blockOutputs[name] = Node.modelInput
            output = try inBlock(BlockFrame(name: name, type: type)) { builder in
                try block.expand(BlockEntry(config: object, name: name, path: place), inputs[0], &builder)
            }
        case .layer(let registration)?:
            output = try addLayer(registration, name: name, config: .object(object), inputs: inputs, place: place)
        case nil:
            let known = Registry.typeNames, defined = templates.keys.sorted()
            throw ConfigError(file: file, place: "\(path).type",
                              message: "unknown layer type \"\(type)\"" + Suggestion.hint(for: type, among: known + defined)
                              + "; known types: " + known.joined(separator: ", ")
                              + (defined.isEmpty ? "" : "; templates defined: " + defined.joined(separator: ", ")))
        }
        return output
    }

    /// Adds a layer node from a config entry's keys, decoded by its registration.
    mutating func addLayer(_ registration: LayerRegistration, name: String, config: JSONValue,
                           inputs: [Int], place: String) throws -> Int {
        try addLayer(name: name, config: config, inputs: inputs, place: place, build: registration.build)
    }

    /// Adds a layer a block generates, from its typed config; errors name the block's entry and
    /// the generated layer (`… → conv2d "layer1.0.conv1"`).
    mutating func addLayer<L: ConfiguredLayer>(_ layer: L.Type, _ config: L.Config, name: String, inputs: [Int],
                                               place: String) throws -> Int {
        try addLayer(name: name, config: .object(JSONObject()), inputs: inputs,
                     place: "\(place) → \(L.typeName) \"\(name)\"") { try L(config, context: &$0) }
    }

    /// Adds an activation a block generates, by its type name (a block's validated
    /// `nonlinearity`, `inner`, `gate`), with the function's default settings.
    mutating func addActivation(_ type: String, name: String, input: Int, place: String) throws -> Int {
        guard let function = Activation.Function(rawValue: type) else {
            preconditionFailure("\(type) is not an activation; blocks check their activation keys")
        }
        return try addLayer(name: name, config: .object(JSONObject()), inputs: [input],
                            place: "\(place) → \(type) \"\(name)\"") { try Activation(function, context: &$0) }
    }

    private mutating func addLayer(name: String, config: JSONValue, inputs: [Int], place: String,
                                   build: (inout LayerBuildContext) throws -> any Layer) throws -> Int {
        guard indexByName[name] == nil else {
            throw ConfigError(file: file, place: place, message: "duplicate node name \"\(name)\"")
        }
        guard nodes.count < Self.maximumNodes else {
            throw ConfigError(file: file, place: place, message: "the model has more than \(Self.maximumNodes) nodes")
        }
        let (layer, notes, stateInputs) = try self.build(name: name, config: config, inputs: inputs, place: place,
                                                         build)
        nodes.append(Node(layer: layer, inputs: inputs, stateInputs: stateInputs, blocks: frames, notes: notes))
        indexByName[name] = nodes.count - 1
        return nodes.count - 1
    }

    /// Builds one layer. Its context's `lookup` shares the node tables; the context ends here,
    /// before `addLayer` appends, so the tables are not copied on every append.
    private func build(name: String, config: JSONValue, inputs: [Int], place: String,
                       _ build: (inout LayerBuildContext) throws -> any Layer)
        throws -> (any Layer, notes: [String], stateInputs: [Int]) {
        var context = LayerBuildContext(name: name, inputShapes: inputs.map(shape(of:)), config: config,
                                        path: place, file: file, strictShapes: strictShapes)
        context.kernels = kernels
        let nodes = self.nodes, indexByName = self.indexByName
        context.lookup = { n in indexByName[n].map { ($0, nodes[$0].layer) } }
        context.upstream = {
            var order = inputs.filter { $0 != Node.modelInput }, seen = Set(order), i = 0
            while i < order.count {
                for source in nodes[order[i]].inputs where source != Node.modelInput && seen.insert(source).inserted {
                    order.append(source)
                }
                i += 1
            }
            return order.map { ($0, nodes[$0].layer) }
        }
        let layer = try build(&context)
        // Absurd sizes in a config are an error here instead of an overflow or a failed
        // allocation later.
        for (what, shape) in [("output", layer.outputShape)] + layer.parameterSpecs.map({ ($0.name, $0.shape) }) {
            try context.checkSize(shape, what)
        }
        return (layer, context.notes, context.stateInputs)
    }

    /// Runs `body` with `frame` as the innermost enclosing block of the nodes it adds.
    mutating func inBlock<T>(_ frame: BlockFrame, _ body: (inout GraphBuilder) throws -> T) throws -> T {
        frames.append(frame)
        defer { frames.removeLast() }
        return try body(&self)
    }

    /// The most elements one activation or parameter tensor may have (2³¹, 8 GiB of floats).
    static let maximumElements = LayerBuildContext.maximumElements
    /// The most primitive nodes a model may expand into (ResNet-152 has about 500).
    static let maximumNodes = 100_000

    func shape(of node: Int) -> Shape { node == Node.modelInput ? inputShape : nodes[node].layer.outputShape }

    // MARK: - Names

    static let activationTypes = Activation.registrations.map(\.type)

    /// Resolves `"inputs"`: a name or a list of names, looked up in the current block first
    /// (`prefix + name`), then outward, then globally; `"input"` is the model input, and a
    /// block's (or template use's) name its output, once the block is complete.
    private func resolveInputs(_ value: JSONValue, place: String, prefix: String) throws -> [Int] {
        let names: [String]
        switch value {
        case .string(let s): names = [s]
        case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            names = items.compactMap(\.stringValue)
        default:
            throw ConfigError(file: file, place: place, message: "expected a node name or a list of node names")
        }
        return try names.map { n in
            if n == "input" { return Node.modelInput }
            var scope = prefix
            while true {
                if let i = indexByName[scope + n] ?? blockOutputs[scope + n], i != Node.modelInput { return i }
                if scope.isEmpty { break }
                scope = scope.dropLast().split(separator: ".").dropLast().map { $0 + "." }.joined()
            }
            throw ConfigError(file: file, place: place,
                              message: "no earlier node named \"\(n)\"" + nameHint(n))
        }
    }

    func nameHint(_ n: String) -> String {
        Suggestion.hint(for: n, among: Array(indexByName.keys)) + " (nodes are named by \"name\"; an input must come earlier in the file)"
    }
}
