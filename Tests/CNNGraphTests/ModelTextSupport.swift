import XCTest
import CNNConfig
@testable import CNNGraph

/// Building models from JSON text and reading the graph back, for the builder's tests.
extension XCTestCase {
    /// A model `{"name": "m", "input": INPUT, EXTRA "layers": [LAYERS]}` from the text of its layers.
    func model(_ layers: String, input: String = "[3, 8, 8]", extra: String = "") -> String {
        "{\"name\": \"m\", \"input\": \(input), \(extra) \"layers\": [\(layers)]}"
    }

    func build(_ layers: String, input: String = "[3, 8, 8]", extra: String = "") throws -> Graph {
        try buildText(model(layers, input: input, extra: extra))
    }

    func buildText(_ text: String) throws -> Graph {
        try GraphBuilder.build(model: JSONSource.parse(text, file: "m.json"), path: "model", file: "m.json")
    }

    /// The description of the ConfigError that building throws, or a test failure.
    func error(_ layers: String, input: String = "[3, 8, 8]", extra: String = "",
                       file: StaticString = #filePath, line: UInt = #line) -> String {
        errorText(model(layers, input: input, extra: extra), file: file, line: line)
    }

    func errorText(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let graph = try buildText(text)
            XCTFail("expected a ConfigError, built \(graph.nodes.map { $0.layer.name })", file: file, line: line)
        } catch let e as ConfigError {
            return e.description
        } catch {
            XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
        }
        return ""
    }

    func names(_ g: Graph) -> [String] { g.nodes.map { $0.layer.name } }

    func shape(_ g: Graph, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> [Int] {
        guard let node = g.node(named: name) else {
            XCTFail("no node \(name) in \(names(g))", file: file, line: line)
            return []
        }
        return node.layer.outputShape.dims
    }

    func index(_ g: Graph, _ name: String) -> Int {
        g.nodes.firstIndex { $0.layer.name == name } ?? -99
    }

    func inputs(_ g: Graph, _ name: String) -> [String] {
        g.node(named: name)?.inputs.map { $0 == Node.modelInput ? "input" : g.nodes[$0].layer.name } ?? ["?"]
    }

    func params(_ g: Graph, _ name: String) -> Int { g.node(named: name)?.layer.parameterCount ?? -1 }

    func trainable(_ g: Graph) -> Int {
        g.parameters.filter { $0.spec.isTrainable }.reduce(0) { $0 + $1.spec.shape.count }
    }
}
