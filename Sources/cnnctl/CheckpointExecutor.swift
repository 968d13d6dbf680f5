import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

/// What the commands that read a checkpoint share: an executor with its weights, and new image
/// files read as the config's evaluation sets are.
enum CheckpointExecutor {
    /// The graph's executor for batches of up to `maxBatch`, its memory checked first, with the
    /// weights of `checkpoint` (without one, the initial weights of seed 1) and their metadata.
    /// `separateNodes`: every node keeps its own output (no fused activation or folded batch norm),
    /// what the pictures read through `Executor.output(ofNode:batch:)`.
    static func load(_ graph: Graph, checkpoint: String?, maxBatch: Int, separateNodes: Bool = false) throws
        -> (Executor, CheckpointMetadata) {
        try Executor.checkMemory(graph, maxBatch: maxBatch, what: "the checkpoint's model", limit: nil)
        let executor = Executor(graph: graph, maxBatch: maxBatch, fusesActivations: !separateNodes)
        executor.foldsAffines = !separateNodes
        guard let checkpoint else { return (executor, try CheckpointMetadata([:], file: "")) }
        return (executor, try CheckpointMetadata(TrainingCheckpoint.loadWeights(checkpoint, into: executor), file: checkpoint))
    }

    /// The image files at `paths` through the evaluation transforms of `config`'s data section
    /// (its channels and normalization: the checkpoint's `"auto"` statistics, or, for a checkpoint
    /// from before they were kept, the training images measured again, with a line saying so),
    /// the files that could not be read when `skip`, and the data's class names. `command` and its
    /// `samplesOption` name what to use instead for data that are not image files.
    static func imageFiles(_ paths: [String], config: String, data dataJSON: JSONValue, graph: Graph,
                           metadata: CheckpointMetadata, skip: Bool, threads: Int, classCount: Int, command: String,
                           samplesOption: String)
        throws -> (set: LabeledDataset, skipped: [String], classNames: [String]?) {
        let base = (config as NSString).deletingLastPathComponent
        let channels = graph.inputShape.rank == 3 ? graph.inputShape[0] : nil
        guard var reading = try DataSpec.imageReading(dataJSON, file: config, baseDirectory: base, inputChannels: channels,
                                                     statistics: metadata.evalNormalization) else {
            throw ConfigError(file: config, place: "data.train", message: "is not an image source, so \(command) takes "
                              + "\(samplesOption) instead of files")
        }
        if reading.needsStatistics {
            Failure.printError("\(command): the checkpoint does not keep the \"auto\" normalization's statistics; "
                               + "measuring the training images")
            reading.pipeline.normalization = try DataSpec.load(dataJSON, path: "data", file: config, baseDirectory: base,
                                                               inputChannels: channels).evaluationPipeline?.normalization
        }
        let (set, skipped) = try reading.dataset(paths: paths, skip: skip, threads: threads, classCount: classCount,
                                                 inputShape: graph.inputShape)
        return (set, skipped, reading.classNames)
    }
}
