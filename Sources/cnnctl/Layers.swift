import ArgumentParser
import CNNGraph

/// `cnnctl layers`: the layer and block types a config may use, with one line each.
struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the layer and block types configs can use.")

    func run() {
        for entry in Registry.entries {
            print(entry.type.padding(toLength: 20, withPad: " ", startingAt: 0) + entry.summary)
        }
    }
}
