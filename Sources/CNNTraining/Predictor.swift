import CNNCore
import CNNData
import CNNGraph
import Foundation

/// Class probabilities for the samples of a dataset: the softmax of the model's first output,
/// in dataset order, batched through a `BatchLoader` (its worker threads decode image files
/// while the model runs).
public enum Predictor {
    public struct Prediction: Sendable {
        /// Every class's probability, in class order.
        public let probabilities: [Float]

        /// The `k` most probable classes, most probable first (lower index first on ties).
        public func top(_ k: Int) -> [(index: Int, probability: Float)] {
            probabilities.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
                .prefix(k).map { ($0.offset, $0.element) }
        }
    }

    /// The model's first output must be `[classes]` (a classifier's logits).
    public static func predict(executor: Executor, dataset: LabeledDataset, normalization: Normalization?,
                               batchSize: Int, workers: Int) throws -> [Prediction] {
        let loader = BatchLoader(dataset: dataset, batchSize: min(batchSize, executor.maxBatch), shuffle: false,
                                 seed: 0, normalization: normalization, augmentation: nil, workers: workers)
        var rng = RNG(seed: 0)
        var out: [Prediction] = []
        out.reserveCapacity(dataset.count)
        try loader.forEachBatch(epoch: 0) { batch in
            let logits = executor.forward(batch.images, training: false, rng: &rng)[0]
            let classes = logits.count / batch.count
            for j in 0..<batch.count {
                out.append(Prediction(probabilities: softmax(logits.data + j * classes, count: classes)))
            }
            return true
        }
        return out
    }

    /// exp(x − max) / Σ exp(x − max), the sum in Double.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> [Float] {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, x[i]) }
        let e = (0..<count).map { Double(exp(x[$0] - m)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }
}

extension Predictor {
    /// The class of every pixel, for a segmentation model (first output `[K, H, W]`, K ≤ 256):
    /// one `[H·W]` mask per sample, row-major, the arg-max over K (the lowest class on ties).
    public static func predictMasks(executor: Executor, dataset: LabeledDataset, normalization: Normalization?,
                                    batchSize: Int, workers: Int) throws -> [[UInt8]] {
        let loader = BatchLoader(dataset: dataset, batchSize: min(batchSize, executor.maxBatch), shuffle: false,
                                 seed: 0, normalization: normalization, augmentation: nil, workers: workers)
        let head = executor.graph.nodes[executor.graph.outputs[0]].layer.outputShape
        precondition(head.rank == 3 && head[0] <= 256, "a mask head is [K ≤ 256, H, W], not \(head)")
        let (k, area) = (head[0], head[1] * head[2])
        var rng = RNG(seed: 0)
        var out: [[UInt8]] = []
        try loader.forEachBatch(epoch: 0) { batch in
            let logits = executor.forward(batch.images, training: false, rng: &rng)[0]
            for j in 0..<batch.count {
                let x = logits.data + j * k * area
                out.append((0..<area).map { i in
                    var best = 0
                    for c in 1..<k where x[c * area + i] > x[best * area + i] { best = c }
                    return UInt8(best)
                })
            }
            return true
        }
        return out
    }
}
