import ArgumentParser
import CNNCore
import CNNConfig
import CNNData
import CNNGraph
import CNNTraining
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint: loss, accuracy, top-5, per-class metrics, confusion matrix.")

    enum Split: String, ExpressibleByArgument, CaseIterable { case test, validation, train }
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The config the model was trained with.") var config: String
    @Option(help: "A .safetensors checkpoint (e.g. runs/<run>/best.safetensors).") var checkpoint: String
    @Option(help: "Which data to evaluate on.") var split = Split.test
    @Option(help: "Batch size.") var batch = 256
    @Option(help: "Output format: table or json.") var format = Format.table
    @Option(help: "Also write per-sample predictions to this CSV file (index or path, true and predicted class, probability).")
    var predictions: String?
    @Option(help: "Memory the run may take, below what the machine has: bytes, or 512M, 4G (at least 1M).") var memoryLimit: ByteSize?

    func validate() throws {
        try checkOption("batch", batch, Limits.batch)
    }

    func run() throws {
        let report = try Failure.reporting { () throws -> MetricsReport in
            let file = try ConfigFile.load(config)
            let graph = try file.buildGraph()
            guard let dataJSON = file.data else {
                throw ConfigError(file: config, place: "", message: "missing \"data\" section")
            }
            let data = try DataSpec.load(dataJSON, path: "data", file: config,
                                         baseDirectory: (config as NSString).deletingLastPathComponent,
                                         inputChannels: graph.inputShape.rank == 3 ? graph.inputShape[0] : nil)
            for notice in data.notices { Failure.printError("data: \(notice)") }
            let dataset: LabeledDataset? = switch split {
            case .test: data.test
            case .validation: data.validation
            case .train: data.train
            }
            guard let dataset else {
                throw ConfigError(file: config, place: "data", message: "has no \(split.rawValue) set")
            }
            try DataCompatibility.checkEvaluable(dataset, role: split.rawValue, by: graph, file: config)
            // Memory for a batch larger than the data would never be used.
            let batch = min(batch, max(dataset.count, 1))
            try Executor.checkMemory(graph, maxBatch: batch, what: "evaluation", limit: memoryLimit?.bytes)
            let executor = Executor(graph: graph, maxBatch: batch)
            try TrainingCheckpoint.loadWeights(checkpoint, into: executor)
            let loss = try? TrainSpec.load(file.train, file: config).loss
            if predictions != nil && dataset.labelsPerSample != 1 {
                throw ConfigError(file: config, place: "data", message: "--predictions needs one label per sample; "
                                  + "this data has \(dataset.labelsPerSample)")
            }
            var rows: [[String]] = []
            let names = dataset.classNames
            func name(_ k: Int) -> String { names.map { k < $0.count ? $0[k] : "\(k)" } ?? "\(k)" }
            let report = try Evaluator.evaluate(
                executor: executor, dataset: dataset, normalization: data.normalization, batchSize: batch, loss: loss,
                workers: data.loaderThreads, perSample: predictions == nil ? nil : { p in
                    let id = dataset.images.map { $0.files[p.index] } ?? "\(p.index)"
                    rows.append([id, "\(p.label)", name(p.label), "\(p.predicted)", name(p.predicted), "\(p.probability)"])
                }).report()
            if let predictions {
                let header = [dataset.images == nil ? "index" : "path", "label", "class", "predicted_label",
                              "predicted_class", "probability"]
                try AtomicFile.write(try CSVText.render([header] + rows), to: predictions)
            }
            return report
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // A diverged model's loss is not a number; JSON has no NaN, so it is written as a string.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                          negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        case .table:
            print("checkpoint \(checkpoint), \(split.rawValue) split")
            print(MetricsTable.render(report), terminator: "")
        }
    }
}
