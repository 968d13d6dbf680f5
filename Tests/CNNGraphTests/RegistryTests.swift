import CNNConfig
import CNNCore
import CNNLayers
import XCTest
@testable import CNNGraph

/// The registry of layer and block types: one name each, and every block, like every layer
/// (`RegistryGradientTests`), covered by its registration's example.
final class RegistryTests: XCTestCase {
    func testEveryTypeNameIsRegisteredOnce() {
        XCTAssertEqual(Registry.duplicates(LayerRegistry.all.map(\.type) + BlockRegistry.all.map(\.type)), [])
        XCTAssertEqual(Registry.typeNames.count, LayerRegistry.all.count + BlockRegistry.all.count)
        XCTAssertEqual(Registry.duplicates(["relu", "conv2d", "relu", "add", "conv2d", "relu"]), ["relu", "conv2d"])
    }

    /// A 1x1 convolution before the block, so that the check of its parameters also checks the
    /// block's input gradient (every path through it: shortcut, branches, SE gate).
    private func graph(_ block: BlockRegistration) throws -> Graph {
        guard case .object(var entry) = block.example.config else { throw XCTSkip("example is no object") }
        entry["type"] = .string(block.type)
        entry["name"] = .string("block")
        let stem: JSONValue = ["type": "conv2d", "name": "stem", "filters": .int(block.example.input[0]), "kernel": 1]
        let model: JSONValue = ["name": .string(block.type), "input": .array(block.example.input.dims.map { .int($0) }),
                                "layers": [stem, .object(entry)]]
        return try GraphBuilder.build(model: model, path: "model", file: nil)
    }

    func testEveryBlockExampleBuildsAndPassesTheGradientCheck() throws {
        for block in BlockRegistry.all {
            let g = try graph(block)
            XCTAssertGreaterThan(g.nodes.count, 2, block.type)
            var (failures, checked) = GraphGradientCheck.check(g, step: 1e-3, kinkTolerant: true, extra: ["stem.weight", "stem.bias"])
            XCTAssertGreaterThan(checked, 10, block.type)
            // Batch norms feeding ReLUs (a dense block's pre-activations) put some values within
            // 1e-3 of a kink; a wrong gradient fails at the smaller step too.
            if !failures.isEmpty {
                (failures, checked) = GraphGradientCheck.check(try graph(block), step: 1e-4, kinkTolerant: true,
                                                               extra: ["stem.weight", "stem.bias"])
            }
            XCTAssertEqual(failures, [], "\(block.type): \(failures.count) of \(checked) elements disagree")
        }
    }

    /// The kink-tolerant check still fails a wrong gradient: every layer of a block assigning
    /// into its input gradients (a residual block's fork then loses the shortcut's share).
    func testBlockCheckCatchesAssignedGradients() throws {
        let g = try graph(Residual.registration)
        let assigning = Graph(name: g.name, description: g.description, inputShape: g.inputShape,
                              nodes: g.nodes.map { Node(layer: AssigningLayer($0.layer), inputs: $0.inputs,
                                                        stateInputs: $0.stateInputs,
                                                        blocks: $0.blocks, notes: $0.notes) },
                              outputs: g.outputs, file: g.file)
        let (failures, _) = GraphGradientCheck.check(assigning, step: 1e-3, kinkTolerant: true,
                                                     extra: ["stem.weight", "stem.bias"])
        XCTAssertTrue(failures.contains { $0.hasPrefix("stem.") }, "\(failures)")
    }
}
