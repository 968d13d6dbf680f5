import ArgumentParser
import CNNCore
import CNNData
import CNNGraph
import CNNTraining
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample text from a character-level model (e.g. configs/char-lstm.json).")

    @Argument(help: "The config the model was trained with.") var config: String
    @Option(help: "A .safetensors checkpoint.") var checkpoint: String
    @Option(help: "Text to start from.") var prime = "The "
    @Option(help: "Number of characters to generate.") var length = 300
    @Option(help: "Softmax temperature (0 = always the most likely character).") var temperature = 0.8
    @Option(help: "Seed for sampling.") var seed = 1

    func validate() throws {
        try checkOption("length", length, Limits.repetitions)
        try checkOption("temperature", temperature, 0...100)
        try checkOption("seed", seed, Limits.seed)
    }

    func run() throws {
        let text = try Failure.reporting { () throws -> String in
            let file = try ConfigFile.load(config)
            let executor = Executor(graph: try file.buildGraph(), maxBatch: 1)
            let metadata = try CheckpointMetadata(TrainingCheckpoint.loadWeights(checkpoint, into: executor), file: checkpoint)
            guard let vocabulary = metadata.vocabulary else {
                throw RunError("\(checkpoint) has no vocabulary in its metadata: it was not trained on a text dataset")
            }
            let sampler = try TextSampler(executor: executor, vocabulary: vocabulary)
            return try sampler.generate(prime: prime, length: length, temperature: temperature,
                                        seed: UInt64(truncatingIfNeeded: seed))
        }
        print(text)
    }
}
