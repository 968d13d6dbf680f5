import ArgumentParser
import CNNGraph

/// `cnnctl layers [TYPE] [--markdown]`: the layer and block types a config may use, one line
/// each; one type's keys and an example; or the whole reference as Markdown (docs/CONFIG.md).
struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the layer and block types configs can use, or one type's keys.",
        discussion: "With TYPE: its keys (type, default, meaning) and an example entry that builds.")

    @Argument(help: "A layer or block type, e.g. conv2d.") var type: String?
    @Flag(help: "Every type's keys and example as Markdown (the generated part of docs/CONFIG.md).")
    var markdown = false

    func run() throws {
        if markdown {
            print(RegistryReference.markdown(), terminator: "")
        } else if let type {
            guard let text = RegistryReference.text(for: type) else {
                throw ValidationError("unknown type \"\(type)\"; `cnnctl layers` lists them")
            }
            print(text, terminator: "")
        } else {
            for entry in Registry.entries {
                print(entry.type.padding(toLength: 20, withPad: " ", startingAt: 0) + (entry.isBlock ? "block: " : "")
                      + entry.summary)
            }
        }
    }
}
