import CNNCore
import CNNData
import CNNGraph

/// Inference over a whole dataset: loss, accuracy, top-5, per-class metrics, confusion matrix.
public enum Evaluator {
    public static func evaluate(executor: Executor, dataset: LabeledDataset, normalization: Normalization?,
                                batchSize: Int, loss: LossSpec?, workers: Int = 1,
                                perSample: ((SamplePrediction) -> Void)? = nil) throws -> ClassificationMetrics {
        // The head's classes: an evaluation set may lack some (`DataCompatibility`).
        let classes = DataCompatibility.classes(of: executor.graph)
        let names = dataset.classNames?.count == classes ? dataset.classNames : nil
        let metrics = ClassificationMetrics(classes: classes, classNames: names)
        metrics.isPerPixel = dataset.mask != nil
        let pixels = PixelRows(head: executor.graph.nodes[executor.graph.outputs[0]].layer.outputShape,
                               maxBatch: min(batchSize, executor.maxBatch))
        let ignored = dataset.mask?.ignored
        let loader = BatchLoader(dataset: dataset, batchSize: min(batchSize, executor.maxBatch), shuffle: false,
                                 seed: 0, normalization: normalization, augmentation: nil, workers: workers)
        var rng = RNG(seed: 0)
        try loader.forEachBatch(epoch: 0) { batch in
            let logits = executor.forward(batch.images, training: false, rng: &rng)[0]
            let rows = batch.count * batch.labelsPerSample
            let flat = pixels?.rows(of: logits) ?? logits.reshaped([rows, logits.count / rows])
            let value = LossFunction.evaluate(loss, logits: flat, labels: batch.labels, gradient: nil, weight: 1,
                                              ignoredLabel: ignored)
            metrics.add(logits: flat, labels: batch.labels, loss: value, ignoredLabel: ignored)
            if let perSample, batch.labelsPerSample == 1 {
                for j in 0..<batch.count {
                    let p = Predictor.softmax(flat.data + j * flat.shape[1], count: flat.shape[1])
                    let best = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
                    perSample(SamplePrediction(index: batch.index * loader.batchSize + j, label: Int(batch.labels[j]),
                                               predicted: best, probability: p[best]))
                }
            }
            return true
        }
        return metrics
    }
}

/// One evaluated sample: its index in the dataset, its label, the most probable class (the lowest
/// index on ties, as accuracy counts) and that class's softmax probability.
public struct SamplePrediction {
    public let index: Int
    public let label: Int
    public let predicted: Int
    public let probability: Float
}

/// The configured loss (softmax cross-entropy by default) applied to one head.
public enum LossFunction {
    /// `ignoredLabel`: the dataset's mask value no loss counts (segmentation).
    public static func evaluate(_ spec: LossSpec?, logits: Tensor, labels: UnsafeBufferPointer<Int32>,
                                gradient: Tensor?, weight: Float, ignoredLabel: Int32? = nil) -> Double {
        switch spec?.type ?? .crossEntropy {
        case .crossEntropy:
            SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, smoothing: spec?.labelSmoothing ?? 0,
                                         classWeights: spec?.classWeights, ignoreIndex: ignoredLabel,
                                         gradient: gradient, weight: weight)
        case .binaryCrossEntropy:
            BinaryCrossEntropy.evaluate(logits: logits, labels: labels, gradient: gradient, weight: weight)
        case .mse:
            MeanSquaredError.evaluate(logits: logits, labels: labels, gradient: gradient, weight: weight)
        }
    }
}
