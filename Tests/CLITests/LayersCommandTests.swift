import Foundation
import XCTest

final class LayersCommandTests: XCTestCase {
    /// docs/CONFIG.md's layer and block tables are exactly what the registry generates
    /// (`scripts/config-reference` rewrites them).
    func testConfigReferenceMatchesTheRegistry() throws {
        let r = try CLI.run(["layers", "--markdown"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try String(contentsOf: CLI.repositoryRoot.appendingPathComponent("docs/CONFIG.md"), encoding: .utf8)
        let begin = try XCTUnwrap(doc.range(of: "<!-- BEGIN GENERATED: cnnctl layers --markdown -->\n"))
        let end = try XCTUnwrap(doc.range(of: "<!-- END GENERATED -->", range: begin.upperBound..<doc.endIndex))
        XCTAssertEqual(String(doc[begin.upperBound..<end.lowerBound]), r.stdout,
                       "docs/CONFIG.md is out of date: run scripts/config-reference")
    }

    /// One type: its keys and an example entry; an unknown type is a usage error naming it.
    func testOneTypeAndAnUnknownType() throws {
        let r = try CLI.run(["layers", "dropout"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("dropout: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("\nexample (input "), r.stdout)
        XCTAssertTrue(r.stdout.contains("{\"type\": \"dropout\""), r.stdout)
        let unknown = try CLI.run(["layers", "conv3d"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown type \"conv3d\""), unknown.stderr)
    }

    /// Every single-input example that `cnnctl layers TYPE` prints builds: as a model's only
    /// layer, it summarizes. (Joins of several inputs, and max_unpool2d, which needs its pool,
    /// are built by the registry-wide tests.)
    func testEveryPrintedExampleBuilds() throws {
        let list = try CLI.run(["layers"])
        let types = list.stdout.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        XCTAssertGreaterThan(types.count, 30)
        for type in types {
            let text = try CLI.run(["layers", type]).stdout
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("example (input ") }, type)
            let entry = lines[header + 1].trimmingCharacters(in: .whitespaces)
            let shapes = lines[header].dropFirst("example (input ".count).dropLast(2)
                .components(separatedBy: " and ")
            guard shapes.count == 1, type != "max_unpool2d" else { continue }
            let model = #"{"name": "example", "input": \#(shapes[0]), "layers": [\#(entry)]}"#
            let file = try CLI.temporaryFile("example-\(type).json", model)
            let r = try CLI.run(["summarize", file])
            XCTAssertEqual(r.status, 0, "\(type): \(r.stderr)")
        }
    }
}
