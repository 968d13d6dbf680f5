import CNNConfig
import CNNCore
import CNNLayers
import XCTest
@testable import CNNGraph

/// Texts padded at the end, after an embedding with a `padding_index`: every recurrent cell and
/// both global pools over time must give each sample what it gives the same text unpadded (the
/// final state at its last real token, both directions; padded steps' outputs zero), and their
/// gradients must agree with finite differences with lengths mixed in one batch, a sample of
/// padding only among them. (PyTorchAgreementTests checks a packed LSTM against PyTorch.)
final class PaddedSequenceTests: XCTestCase {
    static let steps = 6
    /// Lengths 6, 3, 1 and 0 (padding only); tokens 1...9 where real, 0 after.
    static let lengths = [6, 3, 1, 0]

    static func tokens(_ lengths: [Int] = lengths, steps: Int = steps) -> Tensor {
        let x = Tensor(shape: [lengths.count, steps])
        for (b, length) in lengths.enumerated() {
            for t in 0..<length { x.data[b * steps + t] = Float(1 + (4 * b + 7 * t) % 9) }
        }
        return x
    }

    static func graph(steps: Int = steps, _ layers: String) throws -> Graph {
        let text = """
            {"name": "padded", "input": [\(steps)], "layers": [
              {"type": "embedding", "name": "embed", "vocabulary": 10, "dim": 4, "padding_index": 0},
              \(layers)]}
            """
        return try GraphBuilder.build(model: JSONSource.parse(text, file: "padded.json"), file: "padded.json")
    }

    static let recurrent = [
        #"{"type": "lstm", "name": "rnn", "hidden": 3, "layers": 2, "bidirectional": true}"#,
        #"{"type": "gru", "name": "rnn", "hidden": 3, "bidirectional": true}"#,
        #"{"type": "rnn", "name": "rnn", "hidden": 3, "layers": 2}"#,
        #"{"type": "lstm", "name": "rnn", "hidden": 3, "bidirectional": true, "return_sequences": true}"#,
        #"{"type": "gru", "name": "rnn", "hidden": 3, "return_sequences": true, "bptt": 2}"#,
        #"{"type": "global_avgpool", "name": "pool"}"#,
        #"{"type": "global_maxpool", "name": "pool"}"#,
    ]

    /// (Truncated BPTT is not the true gradient, so the layer with `bptt` is left out here.)
    func testGradientsWithMixedLengths() throws {
        for layer in Self.recurrent where !layer.contains("bptt") {
            let g = try Self.graph(layer + #", {"type": "dense", "name": "out", "units": 2}"#)
            let (failures, checked) = GraphGradientCheck.check(g, samples: 400, input: Self.tokens())
            XCTAssertGreaterThanOrEqual(checked, 50, layer)
            XCTAssertEqual(failures, [], layer)
        }
    }

    /// Each padded sample's output is that of its text alone, through a model of its own length.
    func testPaddedSamplesGiveTheUnpaddedOutputs() throws {
        for layer in Self.recurrent {
            let padded = try Self.graph(layer)
            let executor = Executor(graph: padded, maxBatch: 4, seed: 3)
            var rng = RNG(seed: 0)
            let tokens = Self.tokens()
            let y = executor.forward(tokens, training: false, rng: &rng)[0]
            let width = y.count / Self.lengths.count
            let sequences = padded.nodes[padded.outputs[0]].layer.outputShape.rank == 2
            for (b, length) in Self.lengths.enumerated() where length > 0 {
                let alone = Executor(graph: try Self.graph(steps: length, layer), maxBatch: 1, seed: 3)
                alone.parameters.data.update(from: executor.parameters.data, count: executor.parameters.count)
                let x = Tensor(shape: [1, length])
                x.data.update(from: tokens.data + b * Self.steps, count: length)
                let expected = alone.forward(x, training: false, rng: &rng)[0].array
                let got = Array(UnsafeBufferPointer(start: y.data + b * width, count: width))
                if sequences {
                    let real = expected.count
                    XCTAssertEqual(got[..<real].map { ($0 * 1e5).rounded() }, expected.map { ($0 * 1e5).rounded() },
                                   "\(layer): sample \(b)")
                    XCTAssertEqual(got[real...].filter { $0 != 0 }, [], "\(layer): padded steps output zero")
                } else {
                    XCTAssertEqual(got.map { ($0 * 1e5).rounded() }, expected.map { ($0 * 1e5).rounded() },
                                   "\(layer): sample \(b)")
                }
            }
            // Padding only: the initial state (zeros), or a pool of nothing, 0.
            let last = Array(UnsafeBufferPointer(start: y.data + 3 * width, count: width))
            XCTAssertEqual(last.filter { $0 != 0 }, [], "\(layer): a text of padding only")
        }
    }

    /// Without a padding index the same batch reads the padding, so the outputs differ: the
    /// comparison above can fail.
    func testWithoutPaddingIndexPaddingIsRead() throws {
        let text = """
            {"name": "unpadded", "input": [6], "layers": [
              {"type": "embedding", "name": "embed", "vocabulary": 10, "dim": 4},
              {"type": "lstm", "name": "rnn", "hidden": 3}]}
            """
        let plain = try GraphBuilder.build(model: JSONSource.parse(text, file: "u.json"), file: "u.json")
        let padded = try Self.graph(#"{"type": "lstm", "name": "rnn", "hidden": 3}"#)
        let a = Executor(graph: plain, maxBatch: 4, seed: 3), b = Executor(graph: padded, maxBatch: 4, seed: 3)
        b.parameters.data.update(from: a.parameters.data, count: a.parameters.count)
        var rng = RNG(seed: 0)
        let ya = a.forward(Self.tokens(), training: false, rng: &rng)[0].array
        let yb = b.forward(Self.tokens(), training: false, rng: &rng)[0].array
        XCTAssertEqual(Array(ya[..<3]), Array(yb[..<3]), "the full-length sample reads no padding")
        XCTAssertNotEqual(Array(ya[3...]), Array(yb[3...]))
    }

    func testPaddingRowStartsAtZeroAndNamesItsErrors() throws {
        let g = try Self.graph(#"{"type": "global_avgpool", "name": "pool"}"#)
        let executor = Executor(graph: g, maxBatch: 1, seed: 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: executor.parameters.data, count: 4)), [0, 0, 0, 0])
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: executor.parameters.data + 4, count: 4)), [0, 0, 0, 0])
        let summary = g.nodes.map { $0.layer.details ?? "" }.joined(separator: " | ")
        XCTAssertTrue(summary.contains("each sample's real steps (embed)"), summary)
        XCTAssertThrowsError(try GraphBuilder.build(model: JSONSource.parse("""
            {"name": "bad", "input": [6], "layers": [
              {"type": "embedding", "name": "embed", "vocabulary": 10, "dim": 4, "padding_index": 10}]}
            """, file: "bad.json"), file: "bad.json")) { error in
            XCTAssertEqual("\(error)", "bad.json: model.layers[0] (embedding \"embed\").padding_index: "
                           + "must be a row of the table, 0...9, got 10")
        }
    }

    /// A batch of 20 splits its rows between the worker pool's parts (and, with AVX-512, runs the
    /// packed step products): its outputs and parameter gradients must still be the sums of each
    /// text's alone.
    func testLargeBatchesMatchTextsAlone() throws {
        let lengths = (0..<20).map { ($0 * 5) % 7 }
        let layer = #"{"type": "lstm", "name": "rnn", "hidden": 16, "bidirectional": true}"#
        let padded = try Self.graph(layer)
        let executor = Executor(graph: padded, maxBatch: 20, seed: 3)
        let tokens = Self.tokens(lengths), width = 32
        var rng = RNG(seed: 0)
        let y = executor.forward(tokens, training: true, rng: &rng)[0]
        let r = GraphGradientCheck.random(y.shape, &rng)
        executor.zeroGradients()
        executor.backward(tokens, outputGradients: [r], rng: &rng)
        var expected = [Double](repeating: 0, count: executor.gradients.count)
        for (b, length) in lengths.enumerated() where length > 0 {
            let alone = Executor(graph: try Self.graph(steps: length, layer), maxBatch: 1, seed: 3)
            alone.parameters.data.update(from: executor.parameters.data, count: executor.parameters.count)
            let x = Tensor(shape: [1, length]), ry = Tensor(shape: [1, width])
            x.data.update(from: tokens.data + b * Self.steps, count: length)
            ry.data.update(from: r.data + b * width, count: width)
            let ya = alone.forward(x, training: true, rng: &rng)[0]
            for j in 0..<width { XCTAssertEqual(y.data[b * width + j], ya.data[j], accuracy: 1e-5, "sample \(b)") }
            alone.zeroGradients()
            alone.backward(x, outputGradients: [ry], rng: &rng)
            for i in expected.indices { expected[i] += Double(alone.gradients.data[i]) }
        }
        let worst = expected.indices.map { abs(Double(executor.gradients.data[$0]) - expected[$0]) }.max()!
        XCTAssertLessThan(worst, 1e-4, "parameter gradients against the texts' own")
    }
}
