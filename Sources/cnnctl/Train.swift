import ArgumentParser
import CNNCore
import CNNData
import CNNDistributed
import CNNTraining
#if canImport(Glibc)
import Glibc
#endif

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from a config; writes a run directory with metrics, curves and checkpoints.",
        discussion: """
            Ctrl-C finishes the current step, writes runs/…/last.safetensors and exits (status 130); \
            continue with --resume RUN_DIR. A killed run loses at most the epoch in progress. Under \
            mpirun (or srun), each process trains on its share of every batch and rank 0 writes the run \
            directory; --threads is per process.
            """)

    @Argument(help: "A full config (model, data, train).") var config: String
    @Option(help: "Run directory (default: runs/<config>-<UTC time>).") var out: String?
    @Option(help: "Override train.epochs.") var epochs: Int?
    @Option(help: "Continue the run in this directory from its last checkpoint.") var resume: String?
    @Option(help: "Override train.seed.") var seed: Int?
    @Option(help: "BLAS threads (default: train.threads, else 2).") var threads: Int?
    @Option(help: "Memory the run may take, below what the machine has: bytes, or 512M, 4G (at least 1M).") var memoryLimit: ByteSize?
    @Flag(help: "Record gradient and weight norms per parameter tensor each epoch (gradients.csv, gradients.svg).")
    var logGradients = false
    @Option(help: .hidden) var stopAfterSteps: Int?

    func validate() throws {
        try checkOption("epochs", epochs, Limits.epochs)
        try checkOption("threads", threads, Limits.threads)
        try checkOption("seed", seed, Limits.seed)
        if out != nil && resume != nil { throw ValidationError("--out and --resume exclude each other") }
    }

    func run() throws {
        // Under an MPI launcher: one process of several (see `MPIGroup.launched`).
        let group = MPIGroup.launched ? try Failure.reporting { try MPIGroup() } : nil
        let options = TrainOptions(outDirectory: out, resumeDirectory: resume, epochs: epochs, seed: seed, threads: threads,
                                   stopAfterSteps: stopAfterSteps, memoryLimit: memoryLimit?.bytes,
                                   logGradients: logGradients, group: group)
        let root = group?.isRoot ?? true
        let reporter: any TrainingObserver = root ? ProgressReporter(terminal: isatty(STDOUT_FILENO) == 1) : SilentObserver()
        let result: TrainResult
        do {
            result = try Failure.reporting {
                let trainer = try Trainer(configPath: config, options: options, observer: reporter)
                StopSignal.install()
                return try trainer.run()
            }
        } catch {
            // One process failing ends the job, with its rank in the message, instead of leaving
            // the others waiting in a collective.
            if let group, group.size > 1 {
                group.abort("training failed (the error above)", code: (error as? ExitCode)?.rawValue ?? 1)
            }
            throw error
        }
        group?.barrier()
        group?.finish()
        guard root else { return }
        if result.interrupted { throw ExitCode(130) }
        if let last = result.records.last {
            ProgressReporter.emit("done: \(result.records.count) epochs; last: " + EpochLine.format(last, epochs: last.epoch)
                                  + "\nrun directory: \(result.runDirectory)")
        }
    }
}

/// The observer of a process other than rank 0 in a data-parallel run: rank 0 reports for all.
final class SilentObserver: TrainingObserver {
    func log(_ line: String) {}
    func progress(_ p: StepProgress) {}
    func epochFinished(_ record: EpochRecord) {}
}
