import CNNCore
import CNNData
import CNNGraph
import Foundation

/// One epoch of training steps, and the evaluation that closes it.
final class EpochLoop {
    let trainer: Trainer
    let run: RunDirectory
    let executor: Executor
    let groups: [ParameterGroup]
    let optimizer: any Optimizer
    let schedule: LRSchedule
    let loader: BatchLoader
    /// One gradient buffer per model output, `[maxBatch] + output shape`.
    let headGradientBuffers: [Tensor]
    /// Views of the first `n` samples of each buffer, rebuilt only when the batch size changes.
    private var headGradientViews: (batch: Int, views: [Tensor]) = (0, [])
    /// Per head: its pixels as rows, for a segmentation head `[K, H, W]`.
    let pixelRows: [PixelRows?]
    /// Wall time of the training loop (batches, forward, backward, allreduce, update), in the
    /// gradient allreduce, and optimizer steps taken by this process, for the data-parallel report.
    private(set) var stepSeconds = 0.0, allreduceSeconds = 0.0, stepsTaken = 0
    /// Norms around each optimizer step, with `train.log_gradients`.
    let gradientLog: GradientRecorder?

    init(trainer: Trainer, run: RunDirectory, executor: Executor, groups: [ParameterGroup], optimizer: any Optimizer,
         schedule: LRSchedule) {
        self.trainer = trainer
        self.run = run
        self.executor = executor
        self.groups = groups
        self.optimizer = optimizer
        self.schedule = schedule
        loader = BatchLoader(dataset: trainer.data.train, batchSize: trainer.spec.batchSize, shuffle: true,
                             seed: mixSeed(trainer.seed, 0x5A), normalization: trainer.data.normalization,
                             augmentation: trainer.data.augmentation, workers: trainer.data.loaderThreads,
                             shard: trainer.options.group.map { BatchShard(rank: $0.rank, size: $0.size) })
        headGradientBuffers = trainer.graph.outputs.map {
            Tensor(shape: trainer.graph.nodes[$0].layer.outputShape.batched(executor.maxBatch))
        }
        gradientLog = trainer.spec.gradientLog.map {
            GradientRecorder(spec: $0, graph: trainer.graph, offsets: executor.parameterOffsets)
        }
        pixelRows = trainer.graph.outputs.map {
            PixelRows(head: trainer.graph.nodes[$0].layer.outputShape, maxBatch: executor.maxBatch)
        }
    }

    private func headGradients(batch n: Int) -> [Tensor] {
        if headGradientViews.batch != n {
            headGradientViews = (n, headGradientBuffers.map {
                Tensor(shape: $0.shape.sample.batched(n), viewing: $0.data, owner: $0)
            })
        }
        return headGradientViews.views
    }

    func lr(epoch: Int, iteration: Int) -> Float {
        let spec = trainer.spec
        return schedule.lr(base: spec.optimizer.lr, epoch: epoch, iteration: iteration,
                           iterationsPerEpoch: loader.batchesPerEpoch, totalEpochs: spec.epochs)
    }

    /// The optimizer steps taken over the run once `batchesDone` batches of epoch `epoch` are done:
    /// one per accumulation boundary, what `gradients.csv`'s `step` counts.
    func optimizerSteps(epoch: Int, batchesDone: Int) -> Int {
        let accumulate = trainer.spec.accumulate ?? 1, perEpoch = (loader.batchesPerEpoch + accumulate - 1) / accumulate
        return epoch * perEpoch + (batchesDone + accumulate - 1) / accumulate
    }

    /// Runs the rest of epoch `p.epoch` from batch `p.batch`; returns false when a stop was
    /// requested (at an accumulation boundary, so the checkpoint holds no half-summed gradients).
    func trainEpoch(_ p: inout TrainingProgress) throws -> Bool {
        let spec = trainer.spec, batches = loader.batchesPerEpoch, accumulate = spec.accumulate ?? 1
        let clock = Date().addingTimeInterval(-p.seconds)
        var stopped = false
        var failure: DivergenceError?
        let group = trainer.options.group, started = MonotonicClock.seconds()
        defer { stepSeconds += MonotonicClock.seconds() - started }
        try loader.forEachBatch(epoch: p.epoch, startingAt: p.batch) { batch in
            let n = batch.count
            let lr = self.lr(epoch: p.epoch, iteration: batch.index)
            var rng = RNG(seed: mixSeed(trainer.seed, UInt64(p.step), 0xD0))
            if batch.index % accumulate == 0 { executor.zeroGradients() }
            // A process whose share of a small last batch is empty adds nothing to the sums.
            var mainLoss = 0.0
            if n > 0 {
                (mainLoss, failure) = forwardAndBackward(batch, &p, rng: &rng)
                if failure != nil { return false }
            }
            p.step += 1
            let boundary = (batch.index + 1) % accumulate == 0 || batch.index == batches - 1
            if boundary {
                // Each share's gradient is its part of the whole batch's mean (forwardAndBackward),
                // so their sum is the one-process gradient.
                if let group {
                    let start = MonotonicClock.seconds()
                    group.allreduceSum(executor.gradients.data, count: executor.gradients.count)
                    allreduceSeconds += MonotonicClock.seconds() - start
                }
                stepsTaken += 1
                failure = applyUpdate(p, batch.index, lr: lr)
                if failure != nil { return false }
            }
            p.lossSum += mainLoss * Double(n)
            p.seen += n
            p.batch = batch.index + 1
            p.seconds = Date().timeIntervalSince(clock)
            let rate = Double(p.seen) / max(p.seconds, 1e-9)
            let remaining = Double((batches - p.batch) * spec.batchSize
                                   + (spec.epochs - p.epoch - 1) * trainer.data.train.count)
            trainer.observer.progress(StepProgress(epoch: p.epoch + 1, epochs: spec.epochs, batch: p.batch,
                                                   batches: batches, loss: p.lossSum / Double(p.seen),
                                                   accuracy: Double(p.correct) / Double(p.predictions),
                                                   imagesPerSecond: rate, etaSeconds: remaining / rate, lr: lr))
            if boundary {
                let stop = StopSignal.isRequested || trainer.options.stopAfterSteps == p.step
                // Every process stops at the same step, when any was asked to.
                if group?.any(stop) ?? stop {
                    stopped = true
                    return false
                }
            }
            return true
        }
        if let failure { throw failure }
        return !stopped
    }

    /// The batch's forward pass, losses, counts and backward pass; the main loss (a mean over the
    /// batch's rows) and a divergence, if the loss is not finite. In a data-parallel run the
    /// gradient is weighted by this share's part of the whole batch (n / global).
    private func forwardAndBackward(_ batch: Batch, _ p: inout TrainingProgress, rng: inout RNG)
        -> (Double, DivergenceError?) {
        let spec = trainer.spec, n = batch.count, accumulate = spec.accumulate ?? 1
        let outputs = executor.forward(batch.images, training: true, rng: &rng)
        let share = Float(n) / Float(batch.globalCount)
        var mainLoss = 0.0, failure: DivergenceError?
        let gradients = headGradients(batch: n), ignored = trainer.data.train.mask?.ignored
        // Sequence targets: every time step is one row of logits with its own label; so is
        // every pixel of a segmentation head, once its logits are rows.
        var mainRows = outputs[0]
        for (k, g) in gradients.enumerated() {
            g.zero()
            let weight = trainer.headWeights[k] / Float(accumulate) * share
            let loss: Double
            if let pixels = pixelRows[k] {
                let logits = pixels.rows(of: outputs[k]), rowGradient = pixels.rowGradient(batch: n)
                loss = LossFunction.evaluate(spec.loss, logits: logits, labels: batch.labels, gradient: rowGradient,
                                             weight: weight, ignoredLabel: ignored)
                pixels.write(rowGradient, into: g)
                if k == 0 { mainRows = logits }
            } else {
                loss = LossFunction.evaluate(spec.loss, logits: outputs[k], labels: batch.labels, gradient: g,
                                             weight: weight)
            }
            if k == 0 { mainLoss = loss }
            if !loss.isFinite { failure = divergence(p, batch.index, "the loss is \(loss)", n) }
        }
        let counted = Self.correctCount(mainRows, batch.labels, ignoring: ignored)
        p.correct += counted.correct
        p.predictions += counted.rows
        if failure == nil { executor.backward(batch.images, outputGradients: gradients, rng: &rng) }
        return (mainLoss, failure)
    }

    /// In a data-parallel run, the epoch's running sums over all processes, on every process.
    func reduceSums(_ p: inout TrainingProgress) {
        guard let group = trainer.options.group else { return }
        var sums = [p.lossSum, Double(p.seen), Double(p.correct), Double(p.predictions)]
        group.allreduceSum(&sums)
        (p.lossSum, p.seen, p.correct, p.predictions) = (sums[0], Int(sums[1]), Int(sums[2]), Int(sums[3]))
    }

    /// Regularization, the finiteness check, clipping and the optimizer step.
    private func applyUpdate(_ p: TrainingProgress, _ batch: Int, lr: Float) -> DivergenceError? {
        let spec = trainer.spec, count = executor.gradients.count
        let step = optimizerSteps(epoch: p.epoch, batchesDone: batch + 1)
        let log = gradientLog.flatMap { $0.measures(step: step) ? $0 : nil }
        log?.beforeUpdate(parameters: executor.parameters.data, gradients: executor.gradients.data, count: count)
        spec.regularization?.addGradient(parameters: executor.parameters.data, gradients: executor.gradients.data,
                                         groups: groups)
        if let name = executor.firstNonFiniteGradient() {
            return DivergenceError(description: "\(where_(p, batch)): the gradient of \(name) is not finite; "
                                   + "stopped without saving, the last good checkpoint is kept (lower the learning "
                                   + "rate or set clip_grad_norm)")
        }
        for g in groups where g.frozen { (executor.gradients.data + g.range.lowerBound).update(repeating: 0, count: g.range.count) }
        if let limit = spec.clipGradValue { GradientClipping.clipValue(executor.gradients.data, count: count, limit: limit) }
        if let norm = spec.clipGradNorm {
            _ = GradientClipping.clipGlobalNorm(executor.gradients.data, count: count, maxNorm: norm)
        }
        optimizer.step(parameters: executor.parameters.data, gradients: executor.gradients.data, groups: groups, lr: lr)
        log?.afterUpdate(parameters: executor.parameters.data, epoch: p.epoch + 1, step: step)
        return nil
    }

    private func divergence(_ p: TrainingProgress, _ batch: Int, _ what: String, _ n: Int) -> DivergenceError {
        let origin = executor.firstNonFiniteOutput(batch: n)
            .map { "; the first non-finite values are in the output of layer \($0)" }
            ?? "; every layer's output is finite, so the loss itself overflowed"
        return DivergenceError(description: "\(where_(p, batch)): \(what)\(origin). Stopped without saving; the last good "
                               + "checkpoint is kept (lower the learning rate or set clip_grad_norm)")
    }

    /// Where a divergence happened: the config whose settings (learning rate, clipping) govern
    /// it, and the step.
    private func where_(_ p: TrainingProgress, _ batch: Int) -> String {
        "\(trainer.config.path): step \(p.step + 1) (epoch \(p.epoch + 1), batch \(batch + 1))"
    }

    /// Closes the epoch: evaluates on the validation and test sets and resets the running sums.
    func finishEpoch(_ p: inout TrainingProgress) throws -> EpochRecord {
        let spec = trainer.spec, data = trainer.data
        reduceSums(&p)
        let group = trainer.options.group
        // Rank 0's weights and batch-norm statistics everywhere (the statistics differ with local
        // batch norm; PyTorch DDP broadcasts its buffers likewise).
        group?.broadcast(executor.parameters.data, count: executor.parameters.count)
        // Rank 0 evaluates and hands its figures to the others, so that every process takes the
        // schedule's and early stopping's decisions on the same numbers.
        func eval(_ set: LabeledDataset?) throws -> (Double?, Double?, Double?) {
            guard let set else { return (nil, nil, nil) }
            if let group, !group.isRoot { return (.nan, .nan, .nan) }
            let m = try Evaluator.evaluate(executor: executor, dataset: set, normalization: data.normalization,
                                           batchSize: spec.batchSize, loss: spec.loss, workers: data.loaderThreads)
            let meanIoU = set.mask == nil ? nil : SegmentationScores(confusion: m.confusion, classNames: m.classNames).meanIoU
            return (m.meanLoss, m.accuracy, meanIoU)
        }
        var (valLoss, valAccuracy, valMeanIoU) = try eval(data.validation)
        var (testLoss, testAccuracy, testMeanIoU) = try eval(data.test)
        if let group {
            var figures = [valLoss, valAccuracy, valMeanIoU, testLoss, testAccuracy, testMeanIoU].map { $0 ?? .nan }
            figures.withUnsafeMutableBufferPointer { group.broadcast($0.baseAddress!, count: $0.count) }
            func kept(_ i: Int, _ value: Double?) -> Double? { value == nil ? nil : figures[i] }
            (valLoss, valAccuracy, valMeanIoU) = (kept(0, valLoss), kept(1, valAccuracy), kept(2, valMeanIoU))
            (testLoss, testAccuracy, testMeanIoU) = (kept(3, testLoss), kept(4, testAccuracy), kept(5, testMeanIoU))
        }
        let record = EpochRecord(epoch: p.epoch + 1, trainLoss: p.lossSum / Double(max(p.seen, 1)),
                                 trainAccuracy: Double(p.correct) / Double(max(p.predictions, 1)),
                                 valLoss: valLoss, valAccuracy: valAccuracy, testLoss: testLoss, testAccuracy: testAccuracy,
                                 lr: lr(epoch: p.epoch, iteration: loader.batchesPerEpoch - 1),
                                 seconds: p.seconds, imagesPerSecond: Double(p.seen) / max(p.seconds, 1e-9),
                                 valMeanIoU: valMeanIoU, testMeanIoU: testMeanIoU)
        p.batch = 0
        p.lossSum = 0
        p.correct = 0
        p.predictions = 0
        p.seen = 0
        p.seconds = 0
        return record
    }

    /// Rows of `logits` (one per label) whose arg-max (lowest index on ties) is the label, and
    /// the rows counted (those whose label is not `ignored`).
    static func correctCount(_ logits: Tensor, _ labels: UnsafeBufferPointer<Int32>,
                             ignoring ignored: Int32? = nil) -> (correct: Int, rows: Int) {
        let n = labels.count, c = logits.count / max(n, 1)
        var correct = 0, rows = 0
        for i in 0..<n where labels[i] != ignored {
            let row = logits.data + i * c
            var best = 0
            for j in 1..<max(c, 1) where row[j] > row[best] { best = j }
            if best == Int(labels[i]) { correct += 1 }
            rows += 1
        }
        return (correct, rows)
    }
}

/// One line per epoch for logs and non-terminal output.
public enum EpochLine {
    public static func format(_ r: EpochRecord, epochs: Int) -> String {
        func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        var parts = ["epoch \(r.epoch)/\(epochs)", "train loss \(String(format: "%.4f", r.trainLoss)) acc \(pct(r.trainAccuracy))"]
        func iou(_ x: Double?) -> String { x.map { String(format: " mIoU %.4f", $0) } ?? "" }
        if let l = r.valLoss, let a = r.valAccuracy {
            parts.append("val loss \(String(format: "%.4f", l)) acc \(pct(a))" + iou(r.valMeanIoU))
        }
        if let l = r.testLoss, let a = r.testAccuracy {
            parts.append("test loss \(String(format: "%.4f", l)) acc \(pct(a))" + iou(r.testMeanIoU))
        }
        parts.append("lr \(String(format: "%.5g", r.lr))")
        parts.append(String(format: "%.1f s", r.seconds))
        parts.append(String(format: "%.0f img/s", r.imagesPerSecond))
        return parts.joined(separator: "  ")
    }
}
