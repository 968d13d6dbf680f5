import XCTest
import CNNConfig
import CNNGraph
import CNNLayers
@testable import CNNTraining

/// L1/L2 penalties and their gradients by hand, parameter groups of a real graph (arena
/// ranges, decay by role, `exclude`, `freeze` with names, prefixes and globs, and the errors
/// for patterns that match nothing), and name patterns.
final class RegularizationTests: XCTestCase {
    /// w = [1, −2, 0.5, 3, 0]: the first three and the last decay, the fourth is a bias.
    static let weights: [Float] = [1, -2, 0.5, 3, 0]
    static let groups = [
        ParameterGroup(name: "w", range: 0..<3, role: .weight, decay: true),
        ParameterGroup(name: "b", range: 3..<4, role: .bias, decay: false),
        ParameterGroup(name: "z", range: 4..<5, role: .weight, decay: true),
    ]

    func testPenalty() {
        // 0.01·(1 + 2 + 0.5 + 0) + 0.1·(1 + 4 + 0.25 + 0) = 0.035 + 0.525 = 0.56; the bias 3
        // is left out.
        let r = Regularization(l1: 0.01, l2: 0.1)
        let penalty = Self.weights.withUnsafeBufferPointer {
            r.penalty(parameters: $0.baseAddress!, groups: Self.groups)
        }
        XCTAssertEqual(penalty, 0.56, accuracy: 1e-7)
        XCTAssertTrue(r.isActive)
        XCTAssertFalse(Regularization().isActive)
    }

    func testGradient() {
        // g += 0.01·sign(w) + 2·0.1·w: [0.01 + 0.2, −0.01 − 0.4, 0.01 + 0.1] on top of 1;
        // the bias keeps its 1; sign(0) = 0 leaves the zero weight's gradient at 1.
        let r = Regularization(l1: 0.01, l2: 0.1)
        var g: [Float] = [1, 1, 1, 1, 1]
        Self.weights.withUnsafeBufferPointer { w in
            g.withUnsafeMutableBufferPointer {
                r.addGradient(parameters: w.baseAddress!, gradients: $0.baseAddress!,
                              groups: Self.groups)
            }
        }
        XCTAssertEqual(g[0], 1.21, accuracy: 1e-6)
        XCTAssertEqual(g[1], 0.59, accuracy: 1e-6)
        XCTAssertEqual(g[2], 1.11, accuracy: 1e-6)
        XCTAssertEqual(Array(g[3...]), [1, 1])
    }

    func testFrozenGroupsGetNoPenalty() {
        var frozen = Self.groups
        frozen[0].frozen = true
        // Only z = 0 is left: no penalty.
        let penalty = Self.weights.withUnsafeBufferPointer {
            Regularization(l1: 1, l2: 1).penalty(parameters: $0.baseAddress!, groups: frozen)
        }
        XCTAssertEqual(penalty, 0)
    }

    func testDecodingAndErrors() throws {
        let json = try JSONSource.parse(#"{"l2": 5e-4, "exclude": ["fc.*"]}"#, file: "run.json")
        let r = try ConfigDecoder.decode(Regularization.self, from: json,
                                         path: "train.regularization", file: "run.json")
        XCTAssertEqual(r.l2, 5e-4)
        XCTAssertEqual(r.l1, 0)
        XCTAssertEqual(r.exclude, ["fc.*"])
        XCTAssertEqual(r.place, ConfigPlace(file: "run.json", path: "train.regularization"))
        let bad = try JSONSource.parse(#"{"l1": -1}"#, file: "run.json")
        XCTAssertThrowsError(try ConfigDecoder.decode(Regularization.self, from: bad,
                                                      path: "train.regularization",
                                                      file: "run.json")) {
            XCTAssertEqual("\($0)", "run.json: train.regularization.l1: must be ≥ 0, got -1.0")
        }
    }

    // MARK: - Parameter groups

    /// c1 (conv: weight, bias), stage1 (a block: conv without bias + batch norm with scale,
    /// shift and running statistics), fc (dense: weight, bias).
    static let model = #"""
    {"name": "groups", "input": [1, 6, 6], "layers": [
        {"type": "conv2d", "name": "c1", "filters": 2, "kernel": 3},
        {"type": "sequential", "name": "stage1", "layers": [
            {"type": "conv2d", "name": "conv", "filters": 2, "kernel": 3, "bias": false},
            {"type": "batchnorm", "name": "bn"}
        ]},
        {"type": "flatten", "name": "flat"},
        {"type": "dense", "name": "fc", "units": 3}
    ]}
    """#

    private func groups(freeze: [String] = [], regularization: Regularization? = nil) throws
        -> (groups: [ParameterGroup], offsets: [Int], count: Int) {
        let graph = try GraphBuilder.build(model: JSONSource.parse(Self.model, file: "m.json"),
                                           file: "m.json")
        let executor = Executor(graph: graph, maxBatch: 1)
        let groups = try ParameterGroups.groups(for: graph, offsets: executor.parameterOffsets,
                                                freeze: freeze, regularization: regularization,
                                                file: "run.json")
        return (groups, executor.parameterOffsets, executor.parameters.count)
    }

    func testGroupsCoverTheArenaAndDecayOnlyWeights() throws {
        let (groups, offsets, count) = try groups()
        XCTAssertEqual(groups.map(\.name), [
            "c1.weight", "c1.bias", "stage1.conv.weight", "stage1.bn.weight", "stage1.bn.bias",
            "stage1.bn.running_mean", "stage1.bn.running_var", "fc.weight", "fc.bias"])
        XCTAssertEqual(groups.map(\.range.lowerBound), offsets)
        XCTAssertEqual(groups.last?.range.upperBound, count)
        // c1.weight [2,1,3,3] = 18, c1.bias 2, stage1.conv.weight [2,2,3,3] = 36, bn 4 × 2,
        // fc.weight [3, 2·2·2 = 8] = 24, fc.bias 3.
        XCTAssertEqual(groups.map(\.range.count), [18, 2, 36, 2, 2, 2, 2, 24, 3])
        XCTAssertEqual(groups.filter(\.decay).map(\.name),
                       ["c1.weight", "stage1.conv.weight", "fc.weight"])
        XCTAssertEqual(groups.filter(\.isUpdated).count, 7)
        XCTAssertFalse(groups.contains(where: \.frozen))
    }

    func testExcludeAndFreezePatterns() throws {
        let r = Regularization(l2: 1e-4, exclude: ["fc"])
        let (groups, _, _) = try groups(freeze: ["c1", "stage1.b?.*"], regularization: r)
        XCTAssertEqual(groups.filter(\.decay).map(\.name), ["c1.weight", "stage1.conv.weight"])
        XCTAssertEqual(groups.filter(\.frozen).map(\.name), [
            "c1.weight", "c1.bias", "stage1.bn.weight", "stage1.bn.bias",
            "stage1.bn.running_mean", "stage1.bn.running_var"])
        let block = try self.groups(freeze: ["stage1"]).groups
        XCTAssertEqual(block.filter(\.frozen).count, 5)
        let biases = try self.groups(freeze: ["*.bias"]).groups
        XCTAssertEqual(biases.filter(\.frozen).map(\.name),
                       ["c1.bias", "stage1.bn.bias", "fc.bias"])
    }

    func testPatternsThatMatchNothingAreErrors() throws {
        XCTAssertThrowsError(try groups(freeze: ["c1", "stage2.*"])) {
            XCTAssertEqual("\($0)", "run.json: train.freeze[1]: \"stage2.*\" matches no parameter "
                           + "(did you mean \"stage1.*\"?); the model's layers with parameters: "
                           + "c1, stage1, fc")
        }
        let json = try JSONSource.parse(#"{"l2": 1e-4, "exclude": ["*.bias", "fc2"]}"#,
                                        file: "run.json")
        let r = try ConfigDecoder.decode(Regularization.self, from: json,
                                         path: "train.regularization", file: "run.json")
        XCTAssertThrowsError(try groups(regularization: r)) {
            XCTAssertEqual("\($0)", "run.json: train.regularization.exclude[1]: \"fc2\" matches "
                           + "no parameter (did you mean \"fc\"?); the model's layers with "
                           + "parameters: c1, stage1, fc")
        }
    }

    // MARK: - Name patterns

    func testNamePattern() {
        XCTAssertTrue(NamePattern("*.bias").matches("layer1.0.bn1.bias"))
        XCTAssertFalse(NamePattern("*.bias").matches("fc.weight"))
        XCTAssertTrue(NamePattern("c?").matches("c1"))
        XCTAssertFalse(NamePattern("c?").matches("c10"))
        XCTAssertTrue(NamePattern("a*b*c").matches("aXbYbZc"))
        XCTAssertFalse(NamePattern("a*b*c").matches("aXbYcZ"))
        XCTAssertTrue(NamePattern("*").matches(""))
        // Prefix selection stops at dots: c1 selects c1.weight, not c10.weight.
        XCTAssertTrue(NamePattern("c1").selects("c1.weight"))
        XCTAssertFalse(NamePattern("c1").selects("c10.weight"))
        XCTAssertTrue(NamePattern("layer1").selects("layer1.0.conv1.weight"))
        XCTAssertTrue(NamePattern("layer?.0").selects("layer3.0.conv1.weight"))
    }
}
