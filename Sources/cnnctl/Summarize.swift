import ArgumentParser
import CNNCore
import CNNGraph
import Foundation

struct Summarize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-layer output shapes, parameters, MACs and memory of a model.",
        discussion: """
            FILE is a model spec or a full config (its "model" is inline or a path). MACs are per \
            sample, bias adds included (torchinfo's mult-adds divided by the batch).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "A model or config JSON file.") var file: String
    @Option(help: "Batch size for the activation-memory figure.") var batch = 1
    @Option(help: "Fold blocks nested deeper than this (0 = top-level entries only).") var depth: Int?
    @Option(help: "Output format: table or json.") var format = Format.table

    func validate() throws {
        try checkOption("batch", batch, Limits.batch)
        try checkOption("depth", depth, 0...1_000)
    }

    func run() throws {
        let graph = try Failure.reporting { try ConfigFile.load(file).buildGraph() }
        let report = Summary.make(graph, batch: batch)
        switch format {
        case .table:
            print(SummaryTable.render(report, depth: depth), terminator: "")
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }
}
