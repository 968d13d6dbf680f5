import CNNCore
import CNNData
import CNNGraph

/// Samples text from a next-character model (input `[T]` symbol indices, output `[T, V]`
/// logits): the context goes in at positions 0…L−1 (the last T symbols once it is longer than
/// the window), the logits at position L−1 give the next symbol, drawn from
/// softmax(logits / temperature) — or the arg-max at temperature 0 — and appended.
/// A recurrent model is causal, so whatever fills positions after L−1 does not matter.
public struct TextSampler {
    public let executor: Executor
    public let vocabulary: Vocabulary

    public init(executor: Executor, vocabulary: Vocabulary) throws {
        let g = executor.graph
        let output = g.nodes[g.outputs[0]].layer.outputShape
        guard g.inputShape.rank == 1, output.rank == 2, output[0] == g.inputShape[0],
              output[1] == vocabulary.count else {
            throw RunError("generate needs a next-symbol model with input [T] and output [T, \(vocabulary.count)]; "
                           + "\(g.name) maps \(g.inputShape) to \(output)")
        }
        self.executor = executor
        self.vocabulary = vocabulary
    }

    /// `prime` followed by `length` sampled symbols.
    public func generate(prime: String, length: Int, temperature: Double, seed: UInt64) throws -> String {
        var context = try vocabulary.encode(prime)
        guard !context.isEmpty else { throw RunError("--prime must not be empty") }
        let window = executor.graph.inputShape[0], classes = vocabulary.count
        let input = Tensor(shape: [1, window])
        var rng = RNG(seed: seed), generated: [Int32] = []
        var probabilities = [Double](repeating: 0, count: classes)
        for _ in 0..<length {
            let tail = context.suffix(window)
            input.zero()
            for (k, symbol) in tail.enumerated() { input.data[k] = Float(symbol) }
            var forwardRNG = RNG(seed: 0)
            let logits = executor.forward(input, training: false, rng: &forwardRNG)[0].data + (tail.count - 1) * classes
            let next: Int
            if temperature <= 0 {
                next = (0..<classes).max { logits[$0] < logits[$1] }!
            } else {
                let top = (0..<classes).map { Double(logits[$0]) }.max()!
                var sum = 0.0
                for j in 0..<classes {
                    probabilities[j] = ((Double(logits[j]) - top) / temperature).exp
                    sum += probabilities[j]
                }
                var u = Double(rng.uniform()) * sum, j = 0
                while j < classes - 1 && u >= probabilities[j] { u -= probabilities[j]; j += 1 }
                next = j
            }
            context.append(Int32(next))
            generated.append(Int32(next))
        }
        return prime + vocabulary.decode(generated)
    }
}

private extension Double {
    var exp: Double { Foundation.exp(self) }
}

import Foundation
