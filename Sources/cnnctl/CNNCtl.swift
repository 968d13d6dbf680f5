import ArgumentParser

@main
struct CNNCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnctl",
        abstract: "Build, inspect, train and benchmark neural networks from JSON configs.",
        subcommands: [Train.self, Eval.self, Generate.self, Summarize.self, Bench.self, Layers.self])

    static func main() {
        BLASCoreSelection.reexecIfNeeded()
        main(nil)
    }
}
