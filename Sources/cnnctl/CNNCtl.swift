import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

@main
struct CNNCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnctl",
        abstract: "Build, inspect, train and benchmark neural networks from JSON configs.",
        subcommands: [Train.self, Eval.self, Predict.self, Export.self, Generate.self, Visualize.self, Embeddings.self,
                      Summarize.self, Bench.self, BenchData.self, Layers.self])

    static func main() {
        if let (index, shown) = ArgumentEncoding.firstInvalid() {
            Failure.printError("error: argument \(index) (\(shown)) is not valid UTF-8; cnnctl takes UTF-8 paths "
                               + "and values only")
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        BLASCoreSelection.reexecIfNeeded()
        main(nil)
        // A report that could not be written (a full disk) is a failure, not a silent success;
        // a reader that went away (`| head`) is not.
        if fflush(nil) != 0 && errno != EPIPE {
            Failure.printError("error: cannot write the output: \(String(cString: strerror(errno)))")
            Glibc.exit(1)
        }
    }
}
