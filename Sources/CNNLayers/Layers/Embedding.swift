import CNNCore

/// Table lookup: `y[n, t, :] = W[x[n, t], :]` (PyTorch `nn.Embedding`).
///
/// `x: [N, T] (token indices stored as Float) → y: [N, T, dim]`. Weight `[vocabulary, dim]`,
/// role `.embedding`, PyTorch's init N(0, 1). Indices get no gradient (their entry in
/// `inputGradients` is nil); `dW[x[n, t], :] += dy[n, t, :]`. An index that is not an integer
/// in `0..<vocabulary` stops the program: clamping would silently train the wrong row.
/// MACs follow torchinfo, which counts every table element once per sample.
///
/// With `padding_index` (PyTorch's `padding_idx`) that row starts at zero and gets no gradient, so
/// padding embeds as zeros; and the layer is a `SequenceLengthSource`: forward keeps each sample's
/// length, 1 + the position of its last token other than padding, for the recurrent layers and
/// pools over time after it, which then stop at the last real token.
public final class Embedding: ConfiguredLayer, IndexReading, SequenceLengthSource {
    public struct Config: Decodable, Sendable {
        var vocabulary: Int
        var dim: Int
        var paddingIndex: Int?
        private enum CodingKeys: String, CodingKey { case vocabulary, dim, paddingIndex = "padding_index" }
    }

    public let name: String
    public static let typeName = "embedding"
    public var type: String { Self.typeName }
    public let inputShapes: [Shape]
    public let outputShape: Shape
    let vocabulary: Int, dim: Int, steps: Int
    public let paddingIndex: Int?

    var weight: Tensor!, weightGrad: Tensor!

    public init(_ c: Config, context: inout LayerBuildContext) throws {
        let s = try context.singleInput(rank: 1, what: "[time] token indices")
        guard c.vocabulary >= 1 else {
            throw context.error("must be ≥ 1, got \(c.vocabulary)", key: "vocabulary")
        }
        guard c.dim >= 1 else { throw context.error("must be ≥ 1, got \(c.dim)", key: "dim") }
        if let p = c.paddingIndex, !(0..<c.vocabulary).contains(p) {
            throw context.error("must be a row of the table, 0...\(c.vocabulary - 1), got \(p)", key: "padding_index")
        }
        paddingIndex = c.paddingIndex
        name = context.name
        inputShapes = context.inputShapes
        vocabulary = c.vocabulary
        dim = c.dim
        steps = s[0]
        outputShape = [steps, dim]
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec("weight", [vocabulary, dim], role: .embedding,
                       initializer: paddingIndex.map { .normalWithZeroRow(std: 1, zeroRow: $0) } ?? .normal(std: 1))]
    }

    public var paddedSteps: Int? { paddingIndex == nil ? nil : steps }

    /// The lengths, `[N]` Int32, with a padding index.
    public func savedStateFloats(batch: Int) -> Int { paddingIndex == nil ? 0 : batch }

    public var details: String? { paddingIndex.map { "padding index \($0): zero vector, no gradient, sets lengths" } }

    public var macs: Int { parameterCount }

    public var indexLimit: Int { vocabulary }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; weightGrad = gradients[0]
    }

    /// The table row of position `i`; stops with a clear message on a bad index.
    @inline(__always)
    private func row(_ x: UnsafePointer<Float>, _ i: Int) -> Int {
        let v = x[i]
        guard let k = Int(exactly: v), k >= 0, k < vocabulary else {
            preconditionFailure("\(name): token index \(v) at position \(i) of the batch is not "
                                + "an integer in 0..<\(vocabulary) (the vocabulary size)")
        }
        return k
    }

    public func forward(inputs: [Tensor], output: Tensor, context: inout ExecutionContext) {
        let x = UnsafePointer(inputs[0].data), w = UnsafePointer(weight.data)
        for i in 0..<inputs[0].count {
            (output.data + i * dim).update(from: w + row(x, i) * dim, count: dim)
        }
        guard let pad = paddingIndex.map(Float.init) else { return }
        let n = inputs[0].shape[0], lengths = context.saved.indices(count: n)
        for b in 0..<n {
            let sample = x + b * steps
            lengths[b] = Int32((0..<steps).last { sample[$0] != pad }.map { $0 + 1 } ?? 0)
        }
    }

    public func backward(inputs: [Tensor], output: Tensor, outputGradient dy: Tensor,
                         inputGradients: [Tensor?], context: inout ExecutionContext) {
        let x = UnsafePointer(inputs[0].data), dw = weightGrad.data
        for i in 0..<inputs[0].count {
            let k = row(x, i)
            guard k != paddingIndex else { continue }
            let target = dw + k * dim, g = dy.data + i * dim
            for j in 0..<dim { target[j] += g[j] }
        }
    }

    public static let registration = LayerRegistration(
        Embedding.self, summary: "token index → learned vector lookup ([T] → [T, dim])",
        keys: [
            ConfigKey("vocabulary", "int",
                      "Table rows; inputs are indices in 0..<vocabulary (PyTorch `num_embeddings`)."),
            ConfigKey("dim", "int", "Length of each learned vector (PyTorch `embedding_dim`)."),
            ConfigKey("padding_index", "int", default: "none",
                      "The padding token's row (PyTorch `padding_idx`): zero at first and never trained. Texts are "
                      + "padded at the end; recurrent layers and global pools over [T, F] after this layer stop at "
                      + "each sample's last other token."),
        ],
        example: LayerExample(["vocabulary": 7, "dim": 3], inputs: [[5]], indexInputs: 7)
    )
}
