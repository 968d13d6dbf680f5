import CNNCore
import CNNLayers
import CNNTestSupport
import XCTest
@testable import CNNGraph

/// Finite differences over a whole graph: the executor's parameter gradients against central
/// differences of `L = Σ r ⊙ y` (r seeded random, accumulated in Double), after Caffe's
/// GradientChecker. The gradients are pre-filled with a constant and it is subtracted after
/// backward, which catches a layer that assigns where it must add (a fork's second reader).
enum GraphGradientCheck {
    /// The mismatches (`name[index]: analytic a, numeric n`) and how many elements were checked:
    /// about `samples` spread over the arena, plus every element of the parameters in `extra`.
    /// A smaller `step` crosses fewer ReLU kinks (where the central difference is meaningless)
    /// and still leaves Float's rounding of L, about 1e-7·|L|/step, well inside the tolerance.
    /// `kinkTolerant` also accepts either one-sided difference (graphs with ReLUs).
    /// `input`: the batch to check at (token indices for an embedding), random values if nil.
    static func check(_ g: Graph, batch: Int = 3, samples: Int = 200, step h: Float = 1e-2,
                      kinkTolerant: Bool = false, extra: [String] = [],
                      input: Tensor? = nil) -> (failures: [String], checked: Int) {
        let executor = Executor(graph: g, maxBatch: 4, seed: 3)
        var rng = RNG(seed: 11)
        let x = input ?? random(g.inputShape.batched(batch), &rng)
        let batch = x.shape[0]
        let outShape = g.nodes[g.outputs[0]].layer.outputShape.batched(batch)
        let r = random(outShape, &rng)
        let seed: UInt64 = 5

        func loss() -> Double {
            var run = RNG(seed: seed)
            let y = executor.forward(x, training: true, rng: &run)[0]
            var s = 0.0
            for i in 0..<y.count { s += Double(r.data[i]) * Double(y.data[i]) }
            return s
        }

        let prefill: Float = 0.25
        executor.gradients.fill(prefill)
        var run = RNG(seed: seed)
        let y = executor.forward(x, training: true, rng: &run)[0]
        XCTAssertEqual(y.shape, outShape)
        var back = RNG(seed: seed)
        executor.backward(x, outputGradients: [r], rng: &back)
        let analytic = executor.gradients.array.map { Double($0 - prefill) }

        let total = executor.parameters.count
        var indices = Set(stride(from: 0, to: total, by: max(1, total / samples)))
        for name in extra {
            let k = g.parameters.firstIndex { $0.name == name }!
            indices.formUnion(executor.parameterOffsets[k]..<executor.parameterOffsets[k] + g.parameters[k].spec.shape.count)
        }
        let center = loss()
        let names = g.parameters.enumerated().map { ($0.element.name, executor.parameterOffsets[$0.offset]) }
        var failures: [String] = []
        for i in indices.sorted() {
            let p = executor.parameters.data
            let saved = p[i]
            p[i] = saved + h
            let plus = loss()
            p[i] = saved - h
            let minus = loss()
            p[i] = saved
            let numeric = (plus - minus) / (2 * Double(h))
            let a = analytic[i]
            func agrees(_ n: Double) -> Bool { abs(a - n) <= 5e-3 * max(abs(a), abs(n), 1) }
            // A ReLU kink between x − h and x + h spoils the central difference, but L is then
            // smooth on one side of x, and that side's difference is the derivative (Caffe's
            // checker skips such elements instead).
            if !agrees(numeric) && !(kinkTolerant && (agrees((plus - center) / Double(h))
                                                     || agrees((center - minus) / Double(h)))) {
                let owner = names.last { $0.1 <= i }!
                failures.append("\(owner.0)[\(i - owner.1)]: analytic \(a), numeric \(numeric)")
            }
        }
        return (failures, indices.count)
    }

    static func random(_ shape: Shape, _ rng: inout RNG, bound: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(bound: bound) }
        return t
    }
}

/// Delegates to a layer but overwrites its input gradients instead of adding into them, as a
/// buggy layer (or executor) would at a fork.
final class AssigningLayer: DelegatingLayer {
    override func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor,
                  inputGradients: [Tensor?], context: inout ExecutionContext) {
        for case let g? in inputGradients { g.zero() }
        inner.backward(inputs: inputs, output: output, outputGradient: outputGradient,
                       inputGradients: inputGradients, context: &context)
    }
}

