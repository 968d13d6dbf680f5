import CNNConfig
import CNNCore
import CNNGraph
import Foundation
import XCTest

@testable import CNNTraining

/// cnnctl against PyTorch on the same weights: torchvision's resnet18 and a 2-layer LSTM, with
/// and padded text through a packed bidirectional LSTM (the final state at each text's last real
/// token, both directions), with every tensor filled by the formula of scripts/make-torch-fixtures (so no weights are
/// committed), must give PyTorch's outputs to 1e-4 of the largest, and cnnctl's parameter names
/// and shapes must be PyTorch's state_dict keys but its `num_batches_tracked` counters, so that
/// checkpoints move both ways.
final class PyTorchAgreementTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/torch").path
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("configs").path

    static func fnv1a(_ text: String) -> UInt64 {
        UInt64(text.utf8.reduce(UInt32(0x811C_9DC5)) { ($0 ^ UInt32($1)) &* 0x0100_0193 })
    }

    /// The script's `unit`: exact in Double, rounded to Float.
    static func unit(_ name: String, _ n: Int) -> [Float] {
        let h = fnv1a(name)
        return (0..<n).map { i in
            let x = ((UInt64(i) &+ h) &* 2_654_435_761) % (1 << 32)
            return Float(Double(x) / 4_294_967_296 - 0.5)
        }
    }

    /// The script's `fill`, operation for operation in Float.
    static func fill(_ name: String, _ shape: [Int]) -> [Float] {
        let n = shape.reduce(1, *), u = unit(name, n)
        if name.hasSuffix("running_var") { return u.map { 1 + 0.5 * $0 } }
        if name.hasSuffix("running_mean") { return u.map { 0.1 * $0 } }
        if shape.count == 1 { return name.hasSuffix(".weight") ? u.map { 1 + 0.2 * $0 } : u.map { 0.1 * $0 } }
        let scale = Float(2.0 / Double(n / shape[0]).squareRoot())
        return u.map { $0 * scale }
    }

    private func check(_ model: String, graph: Graph) throws {
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Self.directory + "/references.json"))) as! [String: Any]
        let entry = (manifest["models"] as! [String: Any])[model] as! [String: Any]
        let keys = (entry["state_dict"] as! [String: [Int]]).filter { !$0.key.hasSuffix("num_batches_tracked") }
        let ours = Dictionary(uniqueKeysWithValues: graph.parameters.map { ($0.name, $0.spec.shape.dims) })
        XCTAssertEqual(ours, keys, "\(model): parameter names and shapes against PyTorch's state_dict")
        let input = entry["input_shape"] as! [Int]
        let executor = Executor(graph: graph, maxBatch: input[0])
        for (i, p) in graph.parameters.enumerated() {
            TrainingCheckpoint.copy(Self.fill(p.name, p.spec.shape.dims), into: executor, at: executor.parameterOffsets[i])
        }
        let x = Tensor(shape: Shape(input))
        let given = (entry["input_values"] as? [Int]).map { $0.map(Float.init) }
        for (i, v) in (given ?? Self.unit("input", x.count)).enumerated() { x.data[i] = v }
        var rng = RNG(seed: 0)
        let y = executor.forward(x, training: false, rng: &rng)[0].array
        let expected = [Float](try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + (entry["output"] as! String)))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
        XCTAssertEqual(y.count, expected.count)
        let largest = expected.map(abs).max()!
        let error = zip(y, expected).map { abs($0 - $1) }.max()! / largest
        print("\(model): largest difference from PyTorch \(error) of the largest output (\(largest))")
        XCTAssertLessThanOrEqual(error, 1e-4, model)
    }

    func testResNet18MatchesTorchvision() throws {
        try check("resnet18", graph: try ConfigFile.load(Self.configs + "/models/resnet18.json").buildGraph())
    }

    func testLSTMMatchesPyTorch() throws {
        let model = try JSONSource.parse("""
            {"name": "lstm", "input": [5, 8], "layers": [
              {"type": "lstm", "name": "rnn", "hidden": 16, "layers": 2, "forget_bias": 0},
              {"type": "dense", "name": "out", "units": 3}]}
            """, file: "lstm.json")
        try check("lstm", graph: try GraphBuilder.build(model: model, path: "", file: "lstm.json"))
    }

    /// `pack_padded_sequence` against an embedding's `padding_index`: texts of 7, 4 and 1 tokens.
    func testPaddedTextMatchesPackedSequences() throws {
        let model = try JSONSource.parse("""
            {"name": "packed", "input": [7], "layers": [
              {"type": "embedding", "name": "embed", "vocabulary": 12, "dim": 6, "padding_index": 0},
              {"type": "lstm", "name": "rnn", "hidden": 5, "layers": 2, "bidirectional": true, "forget_bias": 0},
              {"type": "dense", "name": "out", "units": 3}]}
            """, file: "packed.json")
        try check("packed_lstm", graph: try GraphBuilder.build(model: model, path: "", file: "packed.json"))
    }
}
