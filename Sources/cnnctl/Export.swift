import ArgumentParser
import CNNConfig
import CNNCore
import CNNExport
import CNNGraph
import CNNTraining
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model and its checkpoint as an ONNX file (opset 17) for other runtimes.",
        discussion: """
            The inference graph: batch norm as BatchNormalization with the running statistics, dropout \
            left out, the input named "input" with a free batch dimension. Layers the exporter cannot \
            express are an error naming the layer.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case onnx }

    @Argument(help: "A model or full config.") var config: String
    @Option(help: "A .safetensors checkpoint (e.g. runs/<run>/best.safetensors).") var checkpoint: String
    @Option(help: "Output format.") var format = Format.onnx
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Flag(help: "Export every model output (auxiliary heads too), not only the main one.") var allOutputs = false

    func run() throws {
        let bytes = try Failure.reporting { () throws -> [UInt8] in
            let graph = try ConfigFile.load(config).buildGraph()
            let executor = Executor(graph: graph, maxBatch: 1)
            _ = try TrainingCheckpoint.loadWeights(checkpoint, into: executor)
            let file = try SafeTensors.read(checkpoint)
            return try ONNXExporter.export(graph, parameter: { try file.values(of: $0) }, allOutputs: allOutputs,
                                           producerVersion: "cnnctl")
        }
        try Failure.reporting { try AtomicFile.write(bytes, to: output) }
        print("wrote \(output): \(bytes.count) bytes, ONNX opset \(ONNXExporter.opset)")
    }
}
