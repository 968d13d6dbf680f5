import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNLayers
import Foundation

/// Trains a model from a config: builds the graph and the data, then runs epochs of
/// forward → loss → backward → (regularize, clip) → optimizer step, evaluating after each epoch
/// and writing the run directory. Every random choice is a function of (seed, epoch, step), and
/// everything else that shapes the next step is in the checkpoint, so `--resume` continues
/// bit-for-bit as an uninterrupted run would (same seed and threads).
public final class Trainer {
    let config: ConfigFile
    let spec: TrainSpec
    let graph: Graph
    let data: LoadedData
    let options: TrainOptions
    let observer: any TrainingObserver
    let seed: UInt64
    let monitor: Metric
    let headWeights: [Float]
    /// Written into every checkpoint: a text model's vocabulary, so `generate` needs no data.
    let checkpointMetadata: [String: String]

    public init(configPath: String, options: TrainOptions, observer: any TrainingObserver) throws {
        config = try ConfigFile.load(configPath)
        graph = try config.buildGraph()
        var spec = try TrainSpec.load(config.train, file: config.path)
        if let e = options.epochs { spec.epochs = e }
        if let t = options.threads { spec.threads = t }
        if options.logGradients && spec.gradientLog == nil { spec.logGradients = GradientLogSpec() }
        try spec.schedule?.validate(totalEpochs: spec.epochs)
        self.spec = spec
        seed = UInt64(truncatingIfNeeded: options.seed ?? spec.seed ?? 1)
        guard let dataJSON = config.data else {
            throw ConfigError(file: config.path, place: "", message: "missing \"data\" section (train, test, …)")
        }
        data = try DataSpec.load(dataJSON, path: "data", file: config.path,
                                 baseDirectory: (config.path as NSString).deletingLastPathComponent,
                                 inputChannels: graph.inputShape.rank == 3 ? graph.inputShape[0] : nil)
        self.options = options
        self.observer = observer
        monitor = spec.monitor
            ?? (data.validation != nil ? .valAccuracy : data.test != nil ? .testAccuracy : .trainLoss)
        headWeights = spec.loss?.headWeights ?? [1] + Array(repeating: 0.3, count: max(0, graph.outputs.count - 1))
        checkpointMetadata = CheckpointMetadata.entries(for: data)
        try checkCompatibility()
    }

    private func checkCompatibility() throws {
        let file = config.path
        // The training set fills the head exactly: one prediction per sample ([C]), one per time
        // step ([T, C]) for sequence targets, one per pixel ([C, H, W]) for segmentation masks.
        let steps = data.train.labelsPerSample, classes = data.train.classCount
        let expected: Shape = data.train.mask.map { Shape([classes] + $0.shape.dims) } ?? (steps == 1 ? [classes] : [steps, classes])
        for (k, o) in graph.outputs.enumerated() where graph.nodes[o].layer.outputShape != expected {
            // Without class names the class count is the largest label + 1: say so, since a
            // stray label is as likely as a wrong head.
            let source = data.train.classCountSource.map {
                " (the largest label in \($0) is \(classes - 1); give data.train.class_names to check the labels "
                    + "against the classes instead)"
            } ?? ""
            throw ConfigError(file: file, place: "model", message: "output \(k) (\(graph.nodes[o].layer.name)) is "
                              + "\(graph.nodes[o].layer.outputShape); the data has \(classes) classes"
                              + (data.train.mask.map { " at each pixel of \($0.shape[0])x\($0.shape[1]) masks" }
                                 ?? (steps == 1 ? "" : " at each of \(steps) time steps")) + source
                              + ", so it must be \(expected)")
        }
        // Every set runs through the model: its input, its indices, classes within the head.
        for (role, set) in [("train", data.train), ("validation", data.validation), ("test", data.test)] {
            if let set { try DataCompatibility.checkEvaluable(set, role: role, by: graph, file: file) }
        }
        if let w = spec.loss?.classWeights, w.count != DataCompatibility.classes(of: graph) {
            throw ConfigError(file: file, place: "train.loss.class_weights",
                              message: "has \(w.count) weights for the \(DataCompatibility.classes(of: graph)) classes the model scores")
        }
        guard headWeights.count == graph.outputs.count else {
            throw ConfigError(file: file, place: "train.loss.head_weights",
                              message: "has \(headWeights.count) weights for \(graph.outputs.count) model outputs")
        }
        let masks = data.train.mask != nil
        let available: [Metric: Bool] = [.valLoss: data.validation != nil,
                                         .valAccuracy: data.validation != nil,
                                         .testLoss: data.test != nil, .testAccuracy: data.test != nil,
                                         .valMeanIoU: data.validation != nil && masks,
                                         .testMeanIoU: data.test != nil && masks]
        for (key, metric) in [("monitor", spec.monitor), ("early_stopping.monitor", spec.earlyStopping?.monitor)] {
            if let metric, available[metric] == false {
                throw ConfigError(file: file, place: "train.\(key)", message: "\(metric.rawValue) needs a "
                                  + (metric.rawValue.hasSuffix("iou") && !masks ? "segmentation dataset (masks)"
                                     : metric.rawValue.hasPrefix("val") ? "validation set (data.validation)"
                                     : "test set (data.test)"))
            }
        }
    }

    // MARK: - The run

    public func run() throws -> TrainResult {
        WorkerPool.shared.configure(threads: spec.threads ?? 2)
        let resuming = options.resumeDirectory != nil
        let group = options.group
        try checkShares(group)
        // Parameters, gradients, up to two optimizer moments (Adam), activations and their gradients.
        // No batch is larger than the training data, so no memory is sized beyond it; a process of a
        // data-parallel run holds its share of a batch.
        let wholeBatch = min(spec.batchSize, data.train.count)
        let maxBatch = group.map { BatchShard(rank: $0.size - 1, size: $0.size).share(of: wholeBatch).count } ?? wholeBatch
        try Executor.checkMemory(graph, maxBatch: maxBatch, extraBytes: 8 * graph.parameterCount, what: "training",
                                 limit: options.memoryLimit)
        let executor = Executor(graph: graph, maxBatch: maxBatch, seed: seed)
        // Everything that can fail on the inputs runs before the run directory is written.
        var transferred: [String] = []
        if !resuming, var from = spec.initFrom {
            if !from.file.hasPrefix("/") {
                from.file = ((config.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(from.file)
            }
            transferred = try WeightTransfer.load(from, into: executor)
        }
        let run = try RunDirectory(path: options.resumeDirectory ?? options.outDirectory
                                   ?? RunDirectory.defaultPath(configPath: config.path), resuming: resuming,
                                   writes: group?.isRoot ?? true)
        let groups = try ParameterGroups.groups(for: graph, offsets: executor.parameterOffsets, freeze: spec.freeze ?? [],
                                                regularization: spec.regularization, file: config.path)
        let optimizer = try spec.optimizer.make(parameterCount: executor.parameters.count)
        let schedule = LRSchedule(spec.schedule)
        var progress = TrainingProgress()
        progress.seed = seed
        var records: [EpochRecord] = []
        if resuming {
            let meta = try TrainingCheckpoint.loadWeights(TrainingCheckpoint.weightsPath(run.path, "last"), into: executor)
            progress = try TrainingCheckpoint.loadState(directory: run.path, name: "last", weightsMetadata: meta,
                                                        optimizer: optimizer, parameterCount: executor.parameters.count)
            guard progress.seed == seed else {
                throw RunError("the run used seed \(progress.seed); resume it with the same seed")
            }
            try schedule.restore(progress.schedule)
            // The epoch's running sums are all processes' (reduced when the run stopped): kept by
            // rank 0 only, so the reduction at the epoch's end counts them once.
            if !(group?.isRoot ?? true) { (progress.lossSum, progress.seen, progress.correct, progress.predictions) = (0, 0, 0, 0) }
            records = try MetricsCSV.parse(run.read("metrics.csv") ?? "", file: run.path + "/metrics.csv")
                .filter { $0.epoch <= progress.epoch }
        } else {
            try run.write("config.json", resolvedConfig())
            for line in transferred { try say(run, line) }
        }
        let loop = EpochLoop(trainer: self, run: run, executor: executor, groups: groups, optimizer: optimizer,
                             schedule: schedule)
        // Every process starts from rank 0's weights (after init_from or the resumed checkpoint).
        group?.broadcast(executor.parameters.data, count: executor.parameters.count)
        if let group, spec.syncBatchNorm == true { executor.statisticsReducer = group }
        if resuming, let problem = progress.inconsistency(
            epochs: spec.epochs, batchesPerEpoch: loop.loader.batchesPerEpoch, batchSize: spec.batchSize,
            labelsPerSample: data.train.labelsPerSample) {
            throw TrainingStateError(component: TrainingCheckpoint.statePath(run.path, "last"),
                                     message: "cannot resume: \(problem)")
        }
        if resuming, let log = loop.gradientLog {
            log.rows = try GradientCSV.parse(run.read("gradients.csv") ?? "", file: run.path + "/gradients.csv")
                .filter { $0.epoch <= progress.epoch }
        }
        if resuming {
            try say(run, "resuming \(run.path) at epoch \(progress.epoch + 1), batch \(progress.batch + 1) (step \(progress.step))")
            if records.count < progress.epoch {
                try say(run, "warning: \(run.path)/metrics.csv holds \(records.count) of the \(progress.epoch) "
                        + "finished epochs; metrics.csv and curves.svg go on from what it holds")
            }
        }
        try sayHeader(run, executor: executor, groups: groups)
        var result = TrainResult(runDirectory: run.path, records: records, interrupted: false, stoppedEarly: false)
        while progress.epoch < spec.epochs {
            guard try loop.trainEpoch(&progress) else {
                loop.reduceSums(&progress)
                if run.writes {
                    try TrainingCheckpoint.save(executor: executor, optimizer: optimizer, progress: progress,
                                                directory: run.path, name: "last", metadata: checkpointMetadata)
                }
                try say(run, "interrupted at epoch \(progress.epoch + 1), batch \(progress.batch) (step \(progress.step)); "
                    + "checkpoint written. Continue with: cnnctl train \(config.path) --resume \(run.path)")
                result.interrupted = true
                result.records = records
                try sayDistributed(run, loop)
                return result
            }
            let record = try loop.finishEpoch(&progress)
            records.append(record)
            schedule.endEpoch(metric: record.valLoss ?? record.testLoss ?? record.trainLoss)
            progress.schedule = schedule.state
            progress.epoch += 1
            let stop = try bookkeeping(record, &progress, run: run, executor: executor)
            if run.writes {
                try TrainingCheckpoint.save(executor: executor, optimizer: optimizer, progress: progress,
                                            directory: run.path, name: "last", metadata: checkpointMetadata)
            }
            try run.write("metrics.csv", MetricsCSV.render(records))
            try run.write("curves.svg", CurvesSVG.render(records, title: "\(graph.name) — \(run.path)"))
            if let log = loop.gradientLog {
                log.endEpoch(record.epoch, step: loop.optimizerSteps(epoch: progress.epoch, batchesDone: 0), parameters: executor.parameters.data)
                try run.write("gradients.csv", try GradientCSV.render(log.rows))
                try run.write("gradients.svg", GradientSVG.render(log.rows, title: "\(graph.name): gradient norms by depth"))
            }
            observer.epochFinished(record)
            try run.appendLog(EpochLine.format(record, epochs: spec.epochs))
            if stop {
                try say(run, "early stopping: \(spec.earlyStopping!.monitor?.rawValue ?? monitor.rawValue) did not improve "
                    + "for \(progress.badEpochs) epochs")
                result.stoppedEarly = true
                break
            }
        }
        result.records = records
        try sayDistributed(run, loop)
        return result
    }

    /// A data-parallel run's cost per step: its time, the allreduce's share, and what it moves.
    private func sayDistributed(_ run: RunDirectory, _ loop: EpochLoop) throws {
        guard let group = options.group, loop.stepsTaken > 0 else { return }
        let steps = Double(loop.stepsTaken), floats = loop.executor.gradients.count, n = Double(group.size)
        let bytes = 4 * floats, ring = Int(2 * (n - 1) / n * Double(bytes))
        func ms(_ seconds: Double) -> String { String(format: "%.3f ms", 1000 * seconds / steps) }
        try say(run, "distributed: \(group.size) process\(group.size == 1 ? "" : "es"), \(loop.stepsTaken) steps: "
                + "\(ms(loop.stepSeconds)) per step, of which allreduce \(ms(loop.allreduceSeconds)); \(floats) floats "
                + "(\(ByteCount(bytes))) summed per step, about \(ByteCount(ring)) sent and received per process by a ring")
    }

    /// With synchronized batch norm every process must have samples in every batch, since each
    /// batch-norm layer's statistics are summed by all of them (a process with an empty share
    /// would skip those collectives).
    private func checkShares(_ group: (any ProcessGroup)?) throws {
        guard let group, spec.syncBatchNorm == true else { return }
        let remainder = data.train.count % spec.batchSize
        for n in [spec.batchSize, remainder] where n > 0 && n < group.size {
            throw ConfigError(file: config.path, place: "train.sync_batchnorm", message: "needs a sample for each of the "
                              + "\(group.size) processes in every batch, but a batch of the \(data.train.count) training "
                              + "samples has \(n); choose batch_size (and the last batch's size) ≥ \(group.size)")
        }
    }

    /// Best checkpoint and early stopping; returns true when training should stop.
    private func bookkeeping(_ record: EpochRecord, _ progress: inout TrainingProgress, run: RunDirectory,
                             executor: Executor) throws -> Bool {
        let value = monitor.value(in: record)!
        let delta = spec.earlyStopping?.minDelta ?? 0
        let improved = progress.bestMetric.map { monitor.minimize ? value < $0 - delta : value > $0 + delta } ?? true
        if improved {
            progress.bestMetric = value
            progress.badEpochs = 0
            if run.writes {
                try TrainingCheckpoint.saveWeights(executor: executor,
                                               metadata: checkpointMetadata.merging(["epoch": String(record.epoch),
                                                                                     monitor.rawValue: String(value)]) { $1 },
                                               to: TrainingCheckpoint.weightsPath(run.path, "best"))
            }
        } else {
            progress.badEpochs += 1
        }
        guard let early = spec.earlyStopping else { return false }
        return progress.badEpochs >= early.patience
    }

    func say(_ run: RunDirectory, _ line: String) throws {
        observer.log(line)
        try run.appendLog(line)
    }

    private func sayHeader(_ run: RunDirectory, executor: Executor, groups: [ParameterGroup]) throws {
        let trainable = groups.filter { !$0.frozen && $0.role != .runningStatistic }.reduce(0) { $0 + $1.range.count }
        let frozen = groups.filter(\.frozen).map(\.name)
        try say(run, "model \(graph.name): \(trainable) trainable parameters"
            + (frozen.isEmpty ? "" : ", frozen: " + frozen.joined(separator: ", ")))
        try say(run, "data: \(data.train.count) training samples"
            + (data.validation.map { ", \($0.count) validation" } ?? "") + (data.test.map { ", \($0.count) test" } ?? "")
            + "; batch \(spec.batchSize), \(spec.epochs) epochs, seed \(seed), \(WorkerPool.shared.threadCount) threads"
            + (options.group.map { ", \($0.size) processes (each a share of every batch; threads per process)" } ?? "")
            + (data.train.images != nil ? ", \(data.loaderThreads) loader thread(s)" : ""))
        for notice in data.notices { try say(run, "data: \(notice)") }
        try say(run, "run directory: \(run.path)")
    }

    /// The config as run: the full config with the model inline.
    private func resolvedConfig() -> String {
        var object = JSONObject()
        object["model"] = config.model
        object["data"] = config.data
        object["train"] = config.train
        return JSONValue.object(object).serialized() + "\n"
    }
}
