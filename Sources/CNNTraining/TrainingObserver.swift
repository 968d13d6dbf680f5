/// Where a training run reports as it goes; the CLI draws a progress bar on a terminal and
/// prints plain lines otherwise.
public protocol TrainingObserver: AnyObject {
    func log(_ line: String)
    func progress(_ p: StepProgress)
    func epochFinished(_ record: EpochRecord)
}

public struct StepProgress: Sendable {
    /// 1-based.
    public var epoch: Int, epochs: Int
    /// 1-based.
    public var batch: Int, batches: Int
    /// Running means over the epoch so far.
    public var loss: Double, accuracy: Double
    public var imagesPerSecond: Double
    public var etaSeconds: Double
    public var lr: Float
}

public struct TrainOptions: Sendable {
    public var outDirectory: String?
    public var resumeDirectory: String?
    public var epochs: Int?
    public var seed: Int?
    public var threads: Int?
    /// Behave as if a stop were requested after this many steps (tests of interrupt and resume).
    public var stopAfterSteps: Int?
    /// Bytes the run may take, when less than the machine has (`--memory-limit`).
    public var memoryLimit: Int?
    /// Log gradients once per epoch where the config does not say how (`--log-gradients`).
    public var logGradients: Bool
    /// The processes of a data-parallel run (`mpirun -np N`); nil for one process.
    public var group: (any ProcessGroup)?

    public init(outDirectory: String? = nil, resumeDirectory: String? = nil, epochs: Int? = nil, seed: Int? = nil,
                threads: Int? = nil, stopAfterSteps: Int? = nil, memoryLimit: Int? = nil, logGradients: Bool = false,
                group: (any ProcessGroup)? = nil) {
        self.group = group
        self.memoryLimit = memoryLimit
        self.logGradients = logGradients
        self.outDirectory = outDirectory
        self.resumeDirectory = resumeDirectory
        self.epochs = epochs
        self.seed = seed
        self.threads = threads
        self.stopAfterSteps = stopAfterSteps
    }
}

public struct TrainResult: Sendable {
    public var runDirectory: String
    public var records: [EpochRecord]
    /// Stopped by a signal (or `stopAfterSteps`) with a checkpoint written.
    public var interrupted: Bool
    public var stoppedEarly: Bool
}

/// Training stopped because the loss or a gradient stopped being a number.
public struct DivergenceError: Error, CustomStringConvertible {
    public let description: String
}
