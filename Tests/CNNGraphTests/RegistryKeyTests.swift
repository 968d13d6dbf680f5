import CNNConfig
import CNNCore
import CNNLayers
import XCTest
@testable import CNNGraph

/// The config reference cannot drift from the code: every layer's and block's documented keys
/// (`ConfigKey`) are exactly the keys its decoding asks for, and docs/CONFIG.md is what
/// `cnnctl layers --markdown` generates from the registry.
final class RegistryKeyTests: XCTestCase {
    /// The keys a layer's build reads from its example.
    private func readKeys(_ registration: LayerRegistration) throws -> [String] {
        let recorder = KeyRecorder()
        var context = LayerBuildContext(name: "layer", inputShapes: registration.example.inputs,
                                        config: registration.example.config, path: "layer", file: nil)
        context.keyRecorder = recorder
        _ = try registration.build(&context)
        return recorder.keys
    }

    /// The keys a block's expansion reads from its example.
    private func readKeys(_ block: BlockRegistration) throws -> [String] {
        guard case .object(let object) = block.example.config else { return [] }
        let recorder = KeyRecorder()
        var builder = GraphBuilder(inputShape: block.example.input, file: nil, strictShapes: false)
        _ = try block.expand(BlockEntry(config: object, name: "block", path: "block", recorder: recorder),
                             Node.modelInput, &builder)
        return recorder.keys
    }

    func testDocumentedKeysAreTheKeysTheDecodersRead() throws {
        for entry in Registry.entries {
            let (documented, read): ([ConfigKey], [String])
            switch entry.kind {
            case .layer(let r) where !r.example.standalone:
                // Needs another layer to build (max_unpool2d its pool): its own tests decode it.
                XCTAssertFalse(r.keys.isEmpty, entry.type)
                continue
            case .layer(let r): (documented, read) = (r.keys, try readKeys(r))
            case .block(let b): (documented, read) = (b.keys, try readKeys(b))
            }
            XCTAssertEqual(documented.map(\.name).sorted(), read.sorted(), entry.type)
            XCTAssertEqual(Set(documented.map(\.name)).count, documented.count, "\(entry.type): a key twice")
            for key in documented {
                XCTAssertFalse(key.type.isEmpty || key.meaning.isEmpty, "\(entry.type).\(key.name)")
            }
        }
    }
}
