import CNNCore
import CNNGraph
import CNNLayers
import CNNTraining

public struct BenchOptions: Sendable {
    public var batch: Int
    public var threads: Int
    /// Steps (or inference passes) per timed round.
    public var iterations: Int
    /// Timed rounds; the best one counts (noise on a shared machine only ever slows a round).
    public var rounds: Int
    /// Extra training steps after the timed ones, sampling resident memory ten times (0 = none).
    public var soakSteps: Int
    /// Bytes the benchmark may take, when less than the machine has (`--memory-limit`).
    public var memoryLimit: Int?

    public init(batch: Int, threads: Int, iterations: Int, rounds: Int = 3, soakSteps: Int = 0,
                memoryLimit: Int? = nil) {
        self.memoryLimit = memoryLimit
        self.batch = batch
        self.threads = threads
        self.iterations = iterations
        self.rounds = rounds
        self.soakSteps = soakSteps
    }
}

/// Measures a model the way `scripts/bench_torch.py` measures PyTorch: random inputs and labels,
/// a full training step (forward, loss, backward, optimizer update), warm-up steps, then the
/// best of several timed rounds. Throughput comes from runs with no per-layer timers; the
/// per-layer table comes from a separate profiled run.
public final class Benchmark {
    let graph: Graph
    let executor: Executor
    let options: BenchOptions
    let optimizer: any Optimizer
    let groups: [ParameterGroup]
    let loss: LossSpec?
    let lr: Float
    let inputs: Tensor
    let labels: UnsafeMutableBufferPointer<Int32>
    let headGradients: [Tensor]
    var rng = RNG(seed: 11)

    /// `train` supplies the optimizer and loss (SGD with momentum 0.9 and cross-entropy without one).
    public init(graph: Graph, train: TrainSpec?, options: BenchOptions, file: String) throws {
        WorkerPool.shared.configure(threads: options.threads)
        self.graph = graph
        self.options = options
        let spec = train?.optimizer ?? OptimizerSpec(type: .sgd, lr: 0.01, momentum: 0.9)
        try Executor.checkMemory(graph, maxBatch: options.batch, extraBytes: 8 * graph.parameterCount,
                                 what: "benchmarking", limit: options.memoryLimit)
        executor = Executor(graph: graph, maxBatch: options.batch, seed: 1)
        optimizer = try spec.make(parameterCount: executor.parameters.count)
        groups = try ParameterGroups.groups(for: graph, offsets: executor.parameterOffsets, file: file)
        loss = train?.loss
        lr = spec.lr
        inputs = Tensor(shape: graph.inputShape.batched(options.batch))
        Initializer.normal(std: 1).fill(inputs, rng: &rng)
        let head = graph.nodes[graph.outputs[0]].layer.outputShape
        let classes = head.dims.last ?? 1, perSample = head.count / classes
        labels = .allocate(capacity: options.batch * perSample)
        for i in labels.indices { labels[i] = Int32(rng.next() % UInt64(classes)) }
        headGradients = graph.outputs.map { Tensor(shape: graph.nodes[$0].layer.outputShape.batched(options.batch)) }
    }

    deinit { labels.deallocate() }

    /// The model's parameter arena (for checks that the timed steps really train).
    public var executorParameters: Tensor { executor.parameters }

    /// One training step on the whole batch.
    func trainStep() {
        let outputs = executor.forward(inputs, training: true, rng: &rng)
        executor.zeroGradients()
        for (k, g) in headGradients.enumerated() {
            g.zero()
            _ = LossFunction.evaluate(loss, logits: outputs[k], labels: UnsafeBufferPointer(labels), gradient: g, weight: 1)
        }
        executor.backward(inputs, outputGradients: headGradients, rng: &rng)
        optimizer.step(parameters: executor.parameters.data, gradients: executor.gradients.data, groups: groups, lr: lr)
    }

    /// Untimed calls before each measurement.
    var warmup: Int { max(3, options.iterations / 5) }

    /// Seconds of the fastest of `options.rounds` rounds of `options.iterations` calls, after
    /// `warmup` untimed ones.
    func bestRound(_ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        var best = Double.infinity
        for _ in 0..<options.rounds {
            let start = MonotonicClock.seconds()
            for _ in 0..<options.iterations { body() }
            best = min(best, MonotonicClock.seconds() - start)
        }
        return best
    }

    public func run(config: String) -> BenchReport {
        let o = options, macs = graph.nodes.reduce(0) { $0 + $1.layer.macs }
        let trainable = graph.parameters.filter(\.spec.isTrainable).reduce(0) { $0 + $1.spec.shape.count }
        let blas = WorkerPool.shared.withWideBLAS { SGEMMProbe.gflops() }
        for _ in 0..<warmup { trainStep() }
        let rssAfterWarmup = ResidentMemory.currentBytes
        let trainSeconds = bestRound(trainStep)
        let rssAfterTraining = ResidentMemory.currentBytes
        let trainRate = Double(o.batch * o.iterations) / trainSeconds
        let inferRate = Double(o.batch * o.iterations) / bestRound { executor.forward(inputs, training: false, rng: &rng) }
        let (layers, profiledStep) = profileLayers()
        let latency = batchOneLatency()
        let soak = o.soakSteps > 0 ? soakMemory(steps: o.soakSteps) : nil
        return BenchReport(
            model: graph.name, config: config, parameters: trainable, macsPerSample: macs,
            batch: o.batch, threads: o.threads, iterations: o.iterations, rounds: o.rounds,
            blasCore: BLASCore.choiceDescription, blasGflops: blas,
            avx512Kernels: CPUFeatures.avx512Kernels, kernels: CPUFeatures.avx512KernelsDescription,
            winogradLayers: graph.nodes.compactMap {
                ($0.layer as? any AlgorithmChoosing)?.algorithmName(batch: o.batch) == "winograd" ? $0.layer.name : nil
            },
            winogradRule: ConvolutionSelection.winogradRule,
            trainImagesPerSecond: trainRate, inferImagesPerSecond: inferRate,
            latencyMsB1: latency, peakRssBytes: ResidentMemory.peakBytes,
            rssBytesAfterWarmup: rssAfterWarmup, rssBytesAfterTraining: rssAfterTraining,
            trainingSteps: 2 * warmup + o.rounds * o.iterations, layers: layers,
            profiledStepMs: profiledStep, soak: soak,
            trainGflops: 6 * Double(macs) * trainRate / 1e9, inferGflops: 2 * Double(macs) * inferRate / 1e9)
    }

    /// Mean forward and backward milliseconds per training step for every node, slowest first,
    /// and the mean profiled step.
    func profileLayers() -> ([BenchReport.LayerTime], Double) {
        let profile = ExecutionProfile(nodeCount: graph.nodes.count)
        executor.profile = profile
        let start = MonotonicClock.seconds()
        for _ in 0..<options.iterations { trainStep() }
        let step = (MonotonicClock.seconds() - start) / Double(options.iterations) * 1e3
        executor.profile = nil
        let scale = 1e3 / Double(options.iterations)
        let rows = graph.nodes.indices.map { i in
            BenchReport.LayerTime(name: graph.nodes[i].layer.name, type: graph.nodes[i].layer.type,
                                  forwardMs: profile.forwardSeconds[i] * scale, backwardMs: profile.backwardSeconds[i] * scale,
                                  fusedInto: executor.fusingLayer(ofNode: i))
        }
        return (rows.sorted { $0.totalMs > $1.totalMs }, step)
    }

    /// Median and 90th percentile of single-sample inference calls, in milliseconds.
    func batchOneLatency() -> BenchReport.Latency {
        let one = Tensor(shape: graph.inputShape.batched(1), viewing: inputs.data, owner: inputs)
        for _ in 0..<10 { executor.forward(one, training: false, rng: &rng) }
        let samples = (0..<max(50, 5 * options.iterations)).map { _ in
            let start = MonotonicClock.seconds()
            executor.forward(one, training: false, rng: &rng)
            return (MonotonicClock.seconds() - start) * 1e3
        }.sorted()
        // Nearest-rank percentiles (as scripts/bench_torch.py): the ⌈q·n⌉-th smallest sample.
        func rank(_ q: Double) -> Double { samples[Int((q * Double(samples.count)).rounded(.up)) - 1] }
        return BenchReport.Latency(median: rank(0.5), p90: rank(0.9))
    }

    /// Resident memory after 1 step and then every tenth of `steps` training steps.
    func soakMemory(steps: Int) -> [BenchReport.MemorySample] {
        trainStep()
        var samples = [BenchReport.MemorySample(step: 1, rssBytes: ResidentMemory.currentBytes)]
        samples.reserveCapacity(11)
        let every = max(1, steps / 10)
        for step in 2...max(2, steps) {
            trainStep()
            if step % every == 0 { samples.append(.init(step: step, rssBytes: ResidentMemory.currentBytes)) }
        }
        return samples
    }
}
