/// What `cnnctl bench` measured, as a value (JSON keys in snake_case).
public struct BenchReport: Encodable, Sendable {
    public struct Latency: Encodable, Sendable {
        public var median: Double
        public var p90: Double
    }

    /// One node's mean time per training step, from the profiled run.
    public struct LayerTime: Encodable, Sendable {
        public var name: String
        public var type: String
        public var forwardMs: Double
        public var backwardMs: Double
        /// A fused activation's producer, whose forward time includes this node's.
        public var fusedInto: String?
        public var totalMs: Double { forwardMs + backwardMs }

        enum CodingKeys: String, CodingKey {
            case name, type, forwardMs = "forward_ms", backwardMs = "backward_ms", fusedInto = "fused_into"
        }
    }

    /// Resident memory after a given number of training steps (the soak run).
    public struct MemorySample: Encodable, Sendable {
        public var step: Int
        public var rssBytes: Int

        enum CodingKeys: String, CodingKey { case step, rssBytes = "rss_bytes" }
    }

    public var model: String
    public var config: String
    /// Trainable parameters (PyTorch's `parameters()`; batch-norm running statistics excluded).
    public var parameters: Int
    public var macsPerSample: Int
    public var batch: Int
    public var threads: Int
    public var iterations: Int
    public var rounds: Int
    public var blasCore: String
    public var blasGflops: Double
    /// Whether CNNAVX512's kernels ran, and `kernels`, the line `bench` prints about them.
    public var avx512Kernels: Bool
    public var kernels: String
    /// The convolutions that ran through Winograd F(4×4, 3×3), and `winogradRule`, which ones do.
    public var winogradLayers: [String]
    public var winogradRule: String
    public var trainImagesPerSecond: Double
    public var inferImagesPerSecond: Double
    public var latencyMsB1: Latency
    public var peakRssBytes: Int
    /// Resident memory after the warm-up steps and after all timed training steps.
    public var rssBytesAfterWarmup: Int
    public var rssBytesAfterTraining: Int
    public var trainingSteps: Int
    public var layers: [LayerTime]
    /// Mean seconds per profiled step spent outside the nodes (loss, optimizer, zeroing).
    public var profiledStepMs: Double
    public var soak: [MemorySample]?

    /// Achieved model GFLOP/s: forward flops are 2·MACs; a training step counts as 3 forward
    /// passes (backward computes two products per forward product: input and weight gradients).
    /// Winograd layers multiply less than that, so these are effective rates (as cuDNN and
    /// NNPACK report them), and may pass the sgemm probe's.
    public var trainGflops: Double
    public var inferGflops: Double

    enum CodingKeys: String, CodingKey {
        case model, config, parameters, macsPerSample = "macs_per_sample", batch, threads, iterations, rounds
        case blasCore = "blas_core", blasGflops = "blas_gflops", avx512Kernels = "avx512_kernels", kernels
        case winogradLayers = "winograd_layers", winogradRule = "winograd_rule"
        case trainImagesPerSecond = "train_images_per_second", inferImagesPerSecond = "infer_images_per_second"
        case trainGflops = "train_gflops", inferGflops = "infer_gflops"
        case latencyMsB1 = "latency_ms_b1", peakRssBytes = "peak_rss_bytes"
        case rssBytesAfterWarmup = "rss_bytes_after_warmup", rssBytesAfterTraining = "rss_bytes_after_training"
        case trainingSteps = "training_steps", layers, profiledStepMs = "profiled_step_ms", soak
    }
}
