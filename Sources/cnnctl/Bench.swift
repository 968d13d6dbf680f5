import ArgumentParser
import CNNCore
import CNNBench
import CNNGraph
import CNNTraining
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training and inference throughput, batch-1 latency, memory and time per layer.",
        discussion: """
            Runs the model on random inputs and labels: a full training step (forward, loss, \
            backward, optimizer update; the config's optimizer, else SGD with momentum 0.9), warm-up \
            steps, then the best of --rounds timed rounds of --iterations steps. The per-layer table \
            comes from a separate profiled run. The OpenBLAS kernel family is chosen at start-up \
            (AVX-512 kernels where the CPU has them); set OPENBLAS_CORETYPE to choose yourself.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "A model or config JSON file.") var file: String
    @Option(help: "Batch size (default: train.batch_size, else 64).") var batch: Int?
    @Option(help: "BLAS threads (default: train.threads, else 2).") var threads: Int?
    @Option(help: "Steps per timed round.") var iterations = 20
    @Option(help: "Timed rounds; the best one counts.") var rounds = 3
    @Option(help: "Extra training steps sampling resident memory (0 = none).") var soak = 0
    @Option(help: "Rows of the per-layer table.") var layers = 25
    @Option(help: "Output format: table or json.") var format = Format.table
    @Option(help: "Memory the run may take, below what the machine has: bytes, or 512M, 4G (at least 1M).") var memoryLimit: ByteSize?

    func validate() throws {
        try checkOption("batch", batch, Limits.batch)
        try checkOption("threads", threads, Limits.threads)
        try checkOption("iterations", iterations, Limits.repetitions)
        try checkOption("rounds", rounds, 1...1_000)
        try checkOption("soak", soak, 0...Limits.repetitions.upperBound)
        try checkOption("layers", layers, 0...100_000)
    }

    func run() throws {
        let report = try Failure.reporting {
            let config = try ConfigFile.load(file)
            let train = try config.train.map { try TrainSpec.load($0, file: file) }
            let options = BenchOptions(batch: batch ?? train?.batchSize ?? 64, threads: threads ?? train?.threads ?? 2,
                                       iterations: iterations, rounds: rounds, soakSteps: soak,
                                       memoryLimit: memoryLimit?.bytes)
            return try Benchmark(graph: config.buildGraph(), train: train, options: options, file: file).run(config: file)
        }
        switch format {
        case .table:
            print(BenchTable.render(report, layerRows: layers), terminator: "")
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }
}
