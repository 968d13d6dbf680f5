import CNNCore

/// A primitive layer: fixed shapes, named parameters, explicit forward and backward
/// (Caffe/Darknet/llm.c style; no tape).
///
/// Tensors passed to `forward`/`backward` are batched: `[N] + shape`. Parameters and their
/// gradients are views into the executor's flat arenas, handed over once by `bind`.
public protocol Layer: AnyObject {
    /// The node path, e.g. `stage2.block1.conv1`; parameter names are `name + "." + spec.name`.
    var name: String { get }
    /// The config type name, e.g. `conv2d`.
    var type: String { get }
    var inputShapes: [Shape] { get }
    /// The per-sample output shape, fixed at build time.
    var outputShape: Shape { get }
    /// In `bind` order.
    var parameterSpecs: [ParameterSpec] { get }
    /// Multiply-accumulates per sample in forward (bias adds count as MACs, as in torchinfo).
    var macs: Int { get }
    /// The sliding window, for receptive-field reports; nil for layers that do not slide one.
    var window: WindowGeometry? { get }
    /// Extra facts for reports (e.g. a recurrent layer's per-gate parameter split).
    var details: String? { get }
    /// Floats of scratch memory needed for a batch of `batch` (shared between layers).
    func workspaceSize(batch: Int) -> Int
    /// Floats (or 4-byte indices) this layer keeps from forward for backward, beyond its output,
    /// for a batch of `batch`: pooling argmaxes, dropout masks, normalization statistics, a
    /// recurrent layer's gates and states. The executor allocates it (`SavedState`) and
    /// `summarize` counts it with the activations; it must not shrink as the batch grows.
    func savedStateFloats(batch: Int) -> Int
    func bind(parameters: [Tensor], gradients: [Tensor])
    func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext)
    /// Adds into `inputGradients` (nil where no gradient is wanted) and into the parameter
    /// gradients; never assigns, so a value used twice sums its gradients. Except where
    /// `context.overwritesInputGradient` is set (only for layers that declare
    /// `canOverwriteInputGradient`): then the single input gradient is written, every element.
    func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                  inputGradients: [Tensor?], context: inout ExecutionContext)
    /// Whether `backward` can write its one input's gradient instead of adding into it, which
    /// spares the executor zeroing that buffer when this layer is its only writer.
    var canOverwriteInputGradient: Bool { get }
}

extension Layer {
    public var parameterSpecs: [ParameterSpec] { [] }
    public var macs: Int { 0 }
    public var window: WindowGeometry? { nil }
    public var details: String? { nil }
    public var canOverwriteInputGradient: Bool { false }
    public func workspaceSize(batch: Int) -> Int { 0 }
    public func savedStateFloats(batch: Int) -> Int { 0 }
    public func bind(parameters: [Tensor], gradients: [Tensor]) {}
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.shape.count } }
}

/// What a parameter is, so optimizers and regularizers can treat kinds differently (no weight
/// decay on biases and norms) and reports can separate learned values from running statistics.
public enum ParameterRole: String, Sendable {
    case weight, bias, normScale, normShift, runningStatistic, embedding
}

public enum Initializer: Sendable, Equatable {
    case constant(Float)
    case uniform(bound: Float)
    case normal(std: Float)
    /// N(0, std²) with row `zeroRow` of the `[rows, width]` tensor zero: PyTorch's
    /// `nn.Embedding(padding_idx=…)`, whose padding vector starts (and, without gradient, stays) zero.
    case normalWithZeroRow(std: Float, zeroRow: Int)

    public func fill(_ t: Tensor, rng: inout RNG) {
        switch self {
        case .constant(let v): t.fill(v)
        case .uniform(let b): for i in 0..<t.count { t.data[i] = rng.uniform(bound: b) }
        case .normal(let s): for i in 0..<t.count { t.data[i] = s * rng.normal() }
        case .normalWithZeroRow(let s, let row):
            Initializer.normal(std: s).fill(t, rng: &rng)
            let width = t.count / t.shape[0]
            (t.data + row * width).update(repeating: 0, count: width)
        }
    }

    /// PyTorch's default for conv and linear weights and biases: kaiming_uniform(a=√5), which
    /// is U(−1/√fan_in, 1/√fan_in).
    public static func pytorchDefault(fanIn: Int) -> Initializer {
        .uniform(bound: 1 / Float(max(fanIn, 1)).squareRoot())
    }
}

public struct ParameterSpec: Sendable, Equatable {
    /// PyTorch-style local name: `weight`, `bias`, `running_mean`, `weight_ih_l0`.
    public var name: String
    public var shape: Shape
    public var role: ParameterRole
    public var initializer: Initializer

    public init(_ name: String, _ shape: Shape, role: ParameterRole, initializer: Initializer) {
        self.name = name
        self.shape = shape
        self.role = role
        self.initializer = initializer
    }

    /// Running statistics are state, not learned: PyTorch's parameters() leaves them out.
    public var isTrainable: Bool { role != .runningStatistic }
}

/// What a step needs besides tensors: mode, randomness (dropout), shared scratch memory, and the
/// worker pool that layers split their work between (the executor's).
public struct ExecutionContext {
    public var isTraining: Bool
    public var rng: RNG
    public var workspace: UnsafeMutablePointer<Float>
    public var workspaceCount: Int
    public var pool: WorkerPool
    /// Set by the executor for one `backward` call: write the input gradient, do not add into it.
    public var overwritesInputGradient = false
    /// The running layer's saved state (`savedStateFloats` words for this batch), the same
    /// memory in its forward and its backward.
    public var saved = SavedState.none
    /// The saved state of the nodes this one reads through state edges (`LayerBuildContext`'s
    /// `readSavedState(ofNode:)`), in the order it asked for them.
    public var stateInputs: [SavedState] = []
    /// Set in training for a data-parallel run with synchronized batch statistics.
    public var statisticsReducer: (any StatisticsReducer)?

    public init(isTraining: Bool, rng: RNG, workspace: UnsafeMutablePointer<Float>, workspaceCount: Int,
                pool: WorkerPool = .shared) {
        self.pool = pool
        self.isTraining = isTraining
        self.rng = rng
        self.workspace = workspace
        self.workspaceCount = workspaceCount
    }
}
