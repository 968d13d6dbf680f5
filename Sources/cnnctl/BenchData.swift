import ArgumentParser
import CNNBench
import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

struct BenchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-data",
        abstract: "Images per second of the input pipeline alone (decode, transforms, batching).",
        discussion: """
            Loads the config's data as training would and times one epoch of batches (or --batches) \
            with the training transforms, then with the evaluation transforms; the first 5 batches start \
            the loader threads and are not counted. No model runs. scripts/bench --data compares it with \
            torchvision's ImageFolder and DataLoader with as many workers.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "A config with an image data section.") var config: String
    @Option(help: "Loader threads (default: data.loader_threads, else its default).") var workers: Int?
    @Option(help: "Batch size (default: train.batch_size, else 64).") var batch: Int?
    @Option(help: "Timed batches per pass after the warm-up (0 = the rest of the epoch).") var batches = 0
    @Option(help: "Output format: table or json.") var format = Format.table

    func validate() throws {
        try checkOption("workers", workers, 1...64)
        try checkOption("batch", batch, Limits.batch)
        try checkOption("batches", batches, 0...Limits.repetitions.upperBound)
    }

    func run() throws {
        let report = try Failure.reporting { () throws -> DataBenchmark.Report in
            let file = try ConfigFile.load(config)
            guard let dataJSON = file.data else {
                throw ConfigError(file: config, place: "", message: "missing \"data\" section")
            }
            let input = try? file.buildGraph().inputShape
            let data = try DataSpec.load(dataJSON, path: "data", file: config,
                                         baseDirectory: (config as NSString).deletingLastPathComponent,
                                         inputChannels: input.flatMap { $0.rank == 3 ? $0[0] : nil })
            for notice in data.notices { Failure.printError("data: \(notice)") }
            let batch = try batch ?? file.train.map { try TrainSpec.load($0, file: config).batchSize } ?? 64
            return try DataBenchmark(data: data, batch: batch, workers: workers ?? data.loaderThreads)
                .run(config: config, batches: batches)
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        case .table:
            print("\(report.config): batch \(report.batch), \(report.workers) loader thread(s)"
                  + (report.cached ? ", cached" : "") + "; \(report.cpu)")
            for p in report.passes {
                print(String(format: "  %-5@  %@  %8.0f images/s  (%d images in %.2f s)", p.split,
                             "[\(p.sampleShape.map(String.init).joined(separator: ", "))]", p.imagesPerSecond,
                             p.images, p.seconds))
            }
        }
    }
}
