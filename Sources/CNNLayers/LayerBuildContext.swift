import CNNConfig
import CNNCore

/// Everything a layer needs to build itself: its name, input shapes and config, plus the place
/// in the file for error messages and a sink for shape notes (inexact output-size arithmetic).
public struct LayerBuildContext {
    public let name: String
    public let inputShapes: [Shape]
    /// The layer's object without the keys the graph builder consumes (`type`, `name`, `inputs`,
    /// `activation`).
    public let config: JSONValue
    /// Key path of the layer object, e.g. `model.layers[4] (conv2d "c3")`.
    public let path: String
    public let file: String?
    /// Inexact output-size division is an error instead of a note.
    public let strictShapes: Bool
    /// The optional kernels the layer may choose (the environment's switches by default).
    public var kernels = KernelOptions.environment
    /// Finds an already-built node by name: its index and layer.
    public var lookup: (String) -> (index: Int, layer: any Layer)? = { _ in nil }
    /// The nodes this layer's inputs descend from, nearest first (breadth-first from the inputs).
    public var upstream: () -> [(index: Int, layer: any Layer)] = { [] }
    public private(set) var notes: [String] = []
    /// The nodes whose saved state this layer reads (`readSavedState(ofNode:)`), in order: its
    /// state edges in the graph.
    public private(set) var stateInputs: [Int] = []

    public init(name: String, inputShapes: [Shape], config: JSONValue, path: String,
                file: String?, strictShapes: Bool = false) {
        self.name = name
        self.inputShapes = inputShapes
        self.config = config
        self.path = path
        self.file = file
        self.strictShapes = strictShapes
    }

    /// Receives the keys the layer's decoding asks for (the registry's key documentation test).
    public var keyRecorder: KeyRecorder?

    /// The layer's config as `T`, every integer in it first held to `integerRange`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ConfigDecoder.checkIntegers(in: config, Self.integerRange, path: path, file: file)
        return try ConfigDecoder.decode(type, from: config, path: path, file: file, recorder: keyRecorder)
    }

    /// The integers a layer or block key may hold: ±2³¹, as large as any tensor may be.
    public static let integerRange = -(1 << 31)...(1 << 31)

    /// The earlier node named `name`, whose saved state this layer's forward and backward then
    /// receive in `ExecutionContext.stateInputs` (max_unpool2d reads its pool's argmax so); nil
    /// when no node of that name is built yet.
    public mutating func readSavedState(ofNode name: String) -> (any Layer)? {
        guard let (index, layer) = lookup(name) else { return nil }
        addStateInput(index)
        return layer
    }

    /// Adds a state edge from node `index` (`readSavedState(ofNode:)`, `sequenceLengths(steps:)`).
    mutating func addStateInput(_ index: Int) { stateInputs.append(index) }

    /// The most elements one activation or parameter tensor may have (2³¹, 8 GiB of floats).
    public static let maximumElements = 1 << 31

    /// Rejects a tensor `what` of `shape` that is empty or too large to hold. The graph builder
    /// checks every layer's output and parameters after it is built; a layer whose building
    /// does work in proportion to its sizes (a convolution's kernel plans) checks them first.
    public func checkSize(_ shape: Shape, _ what: String) throws {
        guard let n = shape.checkedCount, n <= Self.maximumElements, shape.dims.allSatisfy({ $0 > 0 }) else {
            throw error("\(what) shape \(shape) is empty or too large (at most \(Self.maximumElements) elements)")
        }
    }

    /// An error at this layer, or at one of its keys.
    public func error(_ message: String, key: String? = nil) -> ConfigError {
        ConfigError(file: file, place: key.map { "\(path).\($0)" } ?? path, message: message)
    }

    /// The single input's shape, checked for count and rank.
    public func singleInput(rank: Int? = nil, what: String = "") throws -> Shape {
        guard inputShapes.count == 1 else {
            throw error("takes exactly 1 input, got \(inputShapes.count)")
        }
        let s = inputShapes[0]
        if let rank, s.rank != rank {
            throw error("expects a rank-\(rank) input\(what.isEmpty ? "" : " (\(what))"), got \(s)")
        }
        return s
    }

    /// `floor((W − F_eff + P_before + P_after) / S) + 1` (or ceil in ceil mode), with
    /// `F_eff = D·(F − 1) + 1`. When the division is inexact and real input pixels are left
    /// unread after the last window, records a note with the arithmetic and the number of those
    /// pixels (W=10, F=3, S=2, P=0: 4.5, output 4, the last pixel is never read); with
    /// `strict_shapes` that is an error. A window larger than the padded input is always an error.
    public mutating func outputSize(axis: String, input w: Int, kernel f: Int, stride s: Int,
                                    padBefore: Int, padAfter: Int, dilation d: Int = 1,
                                    ceilMode: Bool = false, key: String) throws -> Int {
        let fEff = d * (f - 1) + 1
        let span = w - fEff + padBefore + padAfter
        let padText = padBefore == padAfter ? "2·\(padBefore)" : "\(padBefore)+\(padAfter)"
        let kernelText = d == 1 ? "\(f)" : "\(fEff) (dilated)"
        let formula = "(\(w) − \(kernelText) + \(padText))/\(s) + 1"
        guard span >= 0 else {
            throw error("\(axis): \(formula) = \((Double(span) / Double(s) + 1).formatted2): the window "
                        + "(\(fEff)) is larger than the padded input (\(w + padBefore + padAfter))",
                        key: key)
        }
        var out = span / s + 1
        let remainder = span % s
        if remainder != 0 && ceilMode && (span / s + 1) * s < w + padBefore {
            // PyTorch's rule: an extra window only if it starts inside the input or left padding.
            out += 1
        }
        // Input pixels after the last window that no window reads. Only real pixels count: a
        // stride-2 layer whose last window skips right padding (ResNet's stem) loses nothing,
        // and a window smaller than its stride skips pixels everywhere by design.
        let skipped = out > span / s + 1 || fEff < s ? 0 : max(0, remainder - padAfter)
        if skipped > 0 {
            let exact = Double(span) / Double(s) + 1
            let note = "\(axis): \(formula) = \(exact.formatted2) is not an integer: output \(out); "
                + "the last \(skipped) input pixel(s) of the \(axis) are never read"
            if strictShapes {
                throw error(note + " (strict_shapes is on; adjust padding, kernel or stride)", key: key)
            }
            notes.append(note)
        }
        return out
    }
}

extension Double {
    /// Up to 2 decimals, trailing zeros trimmed: 4.5, 4.33, 7.
    var formatted2: String {
        var s = (self < 0 ? "-" : "") + String(Int((abs(self) * 100).rounded()) / 100) + "."
        let frac = Int((abs(self) * 100).rounded()) % 100
        s += frac < 10 ? "0\(frac)" : "\(frac)"
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

/// A layer built from a typed config: what the registry decodes from a config entry, and what a
/// block writes directly when it expands into layers (`GraphBuilder.addLayer(_:_:…)`), so that
/// generated layers are checked exactly as written ones without a round trip through JSON.
public protocol ConfiguredLayer: Layer {
    associatedtype Config: Decodable & Sendable
    /// The config type name, written once.
    static var typeName: String { get }
    init(_ c: Config, context: inout LayerBuildContext) throws
}

/// How the registry knows a layer type: its config name, a one-line description, its keys
/// (`cnnctl layers TYPE` and docs/CONFIG.md print them; a test holds them to the keys its
/// config decoder asks for), an example (listings, the registry-wide gradient check) and a
/// builder.
public struct LayerRegistration: Sendable {
    public let type: String
    public let summary: String
    public let keys: [ConfigKey]
    public let example: LayerExample
    public let build: @Sendable (inout LayerBuildContext) throws -> any Layer

    public init(type: String, summary: String, keys: [ConfigKey] = [], example: LayerExample,
                build: @escaping @Sendable (inout LayerBuildContext) throws -> any Layer) {
        self.type = type
        self.summary = summary
        self.keys = keys
        self.example = example
        self.build = build
    }

    /// A `ConfiguredLayer`'s registration: decodes its `Config` from the entry and builds it.
    public init<L: ConfiguredLayer>(_ layer: L.Type, summary: String, keys: [ConfigKey] = [],
                                    example: LayerExample) {
        self.init(type: L.typeName, summary: summary, keys: keys, example: example) { context in
            try L(context.decode(L.Config.self), context: &context)
        }
    }
}

/// One key of a layer's or block's config entry, as the reference documents it.
public struct ConfigKey: Sendable, Equatable {
    public let name: String
    /// The JSON it takes, e.g. `int`, `int or [h, w]`, `"zeros" | "reflect"`.
    public let type: String
    /// The value taken when the key is absent; nil for a required key.
    public let defaultValue: String?
    public let meaning: String

    public init(_ name: String, _ type: String, default defaultValue: String? = nil, _ meaning: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// A small configuration of a layer with input shapes, for the registry-wide gradient check.
public struct LayerExample: Sendable {
    public var config: JSONValue
    public var inputs: [Shape]
    /// Inputs are class indices in `0..<n` (embedding), so they get no gradient.
    public var indexInputs: Int?
    /// Inputs spaced further apart than the finite-difference step (max-style layers, where
    /// ±h must never move the argmax).
    public var spacedInputs: Bool
    /// False when the layer needs another layer to build (max-unpool needs its pool); its own
    /// test file checks it instead of the registry-wide check.
    public var standalone: Bool

    public init(_ config: JSONValue, inputs: [Shape], indexInputs: Int? = nil,
                spacedInputs: Bool = false, standalone: Bool = true) {
        self.config = config
        self.inputs = inputs
        self.indexInputs = indexInputs
        self.spacedInputs = spacedInputs
        self.standalone = standalone
    }
}
