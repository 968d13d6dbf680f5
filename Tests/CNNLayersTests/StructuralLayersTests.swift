import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

final class StructuralLayersTests: XCTestCase {
    // MARK: - Helpers

    /// The description of the ConfigError thrown when building, or a failure.
    private func buildError(_ reg: LayerRegistration, _ config: JSONValue, _ inputs: [Shape],
                            file: StaticString = #filePath, line: UInt = #line) -> String {
        let error = GradientCheck.buildError(reg, config: config, inputs: inputs)
        if error == nil { XCTFail("expected a config error", file: file, line: line) }
        return error ?? ""
    }

    private func build(_ reg: LayerRegistration, _ config: JSONValue,
                       _ inputs: [Shape]) throws -> any Layer {
        try GradientCheck.build(reg, config: config, inputs: inputs)
    }

    /// Forward of a parameter-free layer.
    private func run(_ layer: any Layer, _ inputs: [Tensor], training: Bool = false,
                     seed: UInt64 = 1) -> Tensor {
        GradientCheck.forward(layer, inputs: inputs, parameters: [], training: training, seed: seed)
    }

    private func ramp(_ shape: Shape, scale: Float = 1, offset: Float = 0) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.count).map { Float($0) * scale + offset })
    }

    private func random(_ shape: Shape, seed: UInt64 = 3) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.count).map { _ in rng.uniform(bound: 1) })
    }

    // MARK: - Dense

    func testDenseGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Dense.registration), [])
        let sequence = try build(Dense.registration, ["units": 4], [[3, 5]])
        XCTAssertEqual(GradientCheck.check(sequence, batch: 3), [])
        let noBias = try build(Dense.registration, ["units": 2, "bias": false], [[7]])
        XCTAssertEqual(GradientCheck.check(noBias), [])
    }

    func testDenseForwardMatchesNaiveLoopOnSequences() throws {
        let (n, t, f, u) = (2, 3, 5, 4)
        let layer = try build(Dense.registration, ["units": .int(u)], [[t, f]])
        XCTAssertEqual(layer.outputShape, [t, u])
        XCTAssertEqual(layer.macs, (u * f + u) * t)
        let x = random([n, t, f]), w = random([u, f], seed: 4), b = random([u], seed: 5)
        let y = GradientCheck.forward(layer, inputs: [x], parameters: [w, b])
        var expected: [Float] = []
        for r in 0..<(n * t) {
            for j in 0..<u {
                var s = b.data[j]
                for k in 0..<f { s += x.data[r * f + k] * w.data[j * f + k] }
                expected.append(s)
            }
        }
        assertClose(y, expected, within: .relative(1e-5))
    }

    func testDenseParametersFollowPyTorch() throws {
        let layer = try build(Dense.registration, ["units": 3], [[16]])
        XCTAssertEqual(layer.parameterSpecs.map(\.name), ["weight", "bias"])
        XCTAssertEqual(layer.parameterSpecs[0].shape, [3, 16])
        XCTAssertEqual(layer.parameterSpecs[0].initializer, .uniform(bound: 0.25))
        XCTAssertEqual(layer.parameterSpecs[1].role, .bias)
        XCTAssertEqual(layer.macs, 51)
        XCTAssertEqual(layer.outputShape, [3])
    }

    func testDenseConfigErrors() {
        let image = buildError(Dense.registration, ["units": 3], [[3, 4, 5]])
        XCTAssertTrue(image.contains("[3, 4, 5]") && image.contains("\"flatten\""), image)
        let units = buildError(Dense.registration, ["units": 0], [[4]])
        XCTAssertTrue(units.contains("layer.units: must be ≥ 1, got 0"), units)
        let typo = buildError(Dense.registration, ["units": 2, "bais": false], [[4]])
        XCTAssertTrue(typo.contains("layer.bais") && typo.contains("did you mean \"bias\""), typo)
    }

    // MARK: - Flatten and reshape

    func testFlatten() throws {
        XCTAssertEqual(try GradientCheck.check(Flatten.registration), [])
        let layer = try build(Flatten.registration, [:], [[2, 3, 5]])
        XCTAssertEqual(layer.outputShape, [30])
        XCTAssertEqual(layer.macs, 0)
        let x = ramp([2, 2, 3, 5])
        XCTAssertEqual(run(layer, [x]).array, x.array)
        let unknown = buildError(Flatten.registration, ["start_dim": 1], [[2, 3]])
        XCTAssertTrue(unknown.contains("layer.start_dim: unknown key"), unknown)
    }

    func testReshape() throws {
        XCTAssertEqual(try GradientCheck.check(Reshape.registration), [])
        let inferred = try GradientCheck.build(Reshape.registration)
        XCTAssertEqual(inferred.outputShape, [5, 6])
        let explicit = try build(Reshape.registration, ["shape": [3, 2, 2]], [[12]])
        XCTAssertEqual(explicit.outputShape, [3, 2, 2])
        let x = ramp([2, 12])
        XCTAssertEqual(run(explicit, [x]).array, x.array)
    }

    func testReshapeConfigErrors() {
        let mismatch = buildError(Reshape.registration, ["shape": [7, 4]], [[2, 3, 5]])
        XCTAssertTrue(mismatch.contains("layer.shape") && mismatch.contains("[2, 3, 5]")
                      && mismatch.contains("[7, 4]"), mismatch)
        let twice = buildError(Reshape.registration, ["shape": [-1, -1]], [[2, 3]])
        XCTAssertTrue(twice.contains("at most one entry may be -1"), twice)
        let indivisible = buildError(Reshape.registration, ["shape": [4, -1]], [[2, 3, 5]])
        XCTAssertTrue(indivisible.contains("not a multiple of 4"), indivisible)
        let zero = buildError(Reshape.registration, ["shape": [0, 6]], [[6]])
        XCTAssertTrue(zero.contains("got 0"), zero)
    }

    // MARK: - Add, concat, multiply

    func testAdd() throws {
        XCTAssertEqual(try GradientCheck.check(Add.registration), [])
        let layer = try build(Add.registration, [:], [[4], [4]])
        let y = run(layer, [ramp([1, 4]), ramp([1, 4], scale: 10, offset: 1)])
        XCTAssertEqual(y.array, [1, 12, 23, 34])
        let shapes = buildError(Add.registration, [:], [[2, 3, 5], [2, 5, 3]])
        XCTAssertTrue(shapes.contains("input 0 is [2, 3, 5]")
                      && shapes.contains("input 1 is [2, 5, 3]"), shapes)
        let single = buildError(Add.registration, [:], [[4]])
        XCTAssertTrue(single.contains("at least 2 inputs, got 1"), single)
    }

    func testConcatGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Concat.registration), [])
        let features = try build(Concat.registration, ["axis": -1], [[3, 2], [3, 4]])
        XCTAssertEqual(features.outputShape, [3, 6])
        XCTAssertEqual(GradientCheck.check(features), [])
        let single = try build(Concat.registration, [:], [[2, 3]])
        XCTAssertEqual(GradientCheck.check(single), [])
    }

    func testConcatForwardMatchesNaiveLoop() throws {
        let shapes: [Shape] = [[2, 3, 5], [1, 3, 5], [3, 3, 5]]
        let layer = try GradientCheck.build(Concat.registration)
        XCTAssertEqual(layer.outputShape, [6, 3, 5])
        let xs = shapes.enumerated().map { ramp($1.batched(2), offset: Float($0) * 1000) }
        let y = run(layer, xs)
        var expected: [Float] = []
        for b in 0..<2 {
            for (k, s) in shapes.enumerated() {
                expected += Array(xs[k].array[(b * s.count)..<((b + 1) * s.count)])
            }
        }
        XCTAssertEqual(y.array, expected)
        let time = try build(Concat.registration, ["axis": 1], [[2, 1], [2, 2]])
        let yt = run(time, [ramp([1, 2, 1]), ramp([1, 2, 2], offset: 10)])
        XCTAssertEqual(yt.array, [0, 10, 11, 1, 12, 13])
    }

    func testConcatConfigErrors() {
        let spatial = buildError(Concat.registration, [:], [[2, 3, 5], [2, 3, 4]])
        XCTAssertTrue(spatial.contains("input 1 has shape [2, 3, 4], input 0 has shape [2, 3, 5]"),
                      spatial)
        let rank = buildError(Concat.registration, [:], [[2, 3, 5], [2, 15]])
        XCTAssertTrue(rank.contains("[2, 15]"), rank)
        let axis = buildError(Concat.registration, ["axis": 3], [[2, 3, 5]])
        XCTAssertTrue(axis.contains("layer.axis: must be in -3..<3"), axis)
    }

    func testMultiplyGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Multiply.registration), [])
        let vector = try build(Multiply.registration, [:], [[3, 2, 5], [3]])
        XCTAssertEqual(GradientCheck.check(vector), [])
        let same = try build(Multiply.registration, [:], [[2, 3], [2, 3]])
        XCTAssertEqual(GradientCheck.check(same), [])
    }

    func testMultiplyForward() throws {
        let layer = try GradientCheck.build(Multiply.registration)
        XCTAssertEqual(layer.outputShape, [3, 4, 5])
        let x = random([2, 3, 4, 5]), s = random([2, 3, 1, 1], seed: 9)
        let y = run(layer, [x, s])
        let expected = (0..<x.count).map { x.data[$0] * s.data[$0 / 20] }
        assertClose(y, expected, within: .relative(1e-5))
        let same = try build(Multiply.registration, [:], [[3], [3]])
        XCTAssertEqual(run(same, [ramp([1, 3]), ramp([1, 3], offset: 2)]).array, [0, 3, 8])
        let bad = buildError(Multiply.registration, [:], [[3, 4, 5], [4, 1, 1]])
        XCTAssertTrue(bad.contains("[4, 1, 1]") && bad.contains("[3, 4, 5]")
                      && bad.contains("[3, 1, 1]"), bad)
        let one = buildError(Multiply.registration, [:], [[3, 4, 5]])
        XCTAssertTrue(one.contains("exactly 2 inputs"), one)
    }

    // MARK: - Embedding

    func testEmbedding() throws {
        XCTAssertEqual(try GradientCheck.check(Embedding.registration), [])
        let layer = try GradientCheck.build(Embedding.registration)
        XCTAssertEqual(layer.outputShape, [5, 3])
        let spec = layer.parameterSpecs[0]
        XCTAssertEqual(spec.name, "weight")
        XCTAssertEqual(spec.shape, [7, 3])
        XCTAssertEqual(spec.role, .embedding)
        XCTAssertEqual(spec.initializer, .normal(std: 1))
        let w = ramp([7, 3])
        let x = Tensor(shape: [1, 5], values: [6, 0, 2, 2, 5])
        let y = GradientCheck.forward(layer, inputs: [x], parameters: [w])
        XCTAssertEqual(y.array, [18, 19, 20, 0, 1, 2, 6, 7, 8, 6, 7, 8, 15, 16, 17])
        // Repeated indices accumulate into the same row.
        let dw = Tensor(shape: [7, 3])
        layer.bind(parameters: [w], gradients: [dw])
        let workspace = Tensor(shape: [1])
        var context = ExecutionContext(isTraining: true, rng: RNG(seed: 1),
                                       workspace: workspace.data, workspaceCount: 1)
        let ones = ramp([1, 5, 3], scale: 0, offset: 1)
        layer.backward(inputs: [x], output: y, outputGradient: ones, inputGradients: [nil],
                       context: &context)
        XCTAssertEqual(Array(dw.array[6..<9]), [2, 2, 2])
        XCTAssertEqual(Array(dw.array[3..<6]), [0, 0, 0])
    }

    func testEmbeddingConfigErrors() {
        let dim = buildError(Embedding.registration, ["vocabulary": 7, "dim": 0], [[5]])
        XCTAssertTrue(dim.contains("layer.dim: must be ≥ 1, got 0"), dim)
        let rank = buildError(Embedding.registration, ["vocabulary": 7, "dim": 2], [[5, 2]])
        XCTAssertTrue(rank.contains("rank-1") && rank.contains("[5, 2]"), rank)
        let missing = buildError(Embedding.registration, ["dim": 2], [[5]])
        XCTAssertTrue(missing.contains("missing required key \"vocabulary\""), missing)
    }

    // MARK: - Pad channels

    func testPadChannels() throws {
        XCTAssertEqual(try GradientCheck.check(PadChannels.registration), [])
        let layer = try build(PadChannels.registration, ["channels": 4], [[2, 1, 2]])
        XCTAssertEqual(layer.outputShape, [4, 1, 2])
        let y = run(layer, [ramp([2, 2, 1, 2], offset: 1)])
        XCTAssertEqual(y.array, [0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8, 0, 0])
        let same = try build(PadChannels.registration, ["channels": 2], [[2, 3, 3]])
        XCTAssertEqual(GradientCheck.check(same), [])
        let fewer = buildError(PadChannels.registration, ["channels": 1], [[2, 3, 3]])
        XCTAssertTrue(fewer.contains("layer.channels: must be ≥ the input channels (2), got 1"),
                      fewer)
        let odd = buildError(PadChannels.registration, ["channels": 5], [[2, 3, 3]])
        XCTAssertTrue(odd.contains("layer.channels") && odd.contains("odd"), odd)
    }

    // MARK: - Dropout

    func testDropoutGradients() throws {
        XCTAssertEqual(try GradientCheck.check(Dropout.registration), [])
        let layer = try build(Dropout.registration, ["rate": 0.5], [[3, 4, 5]])
        XCTAssertEqual(GradientCheck.check(layer, batch: 3), [])
        XCTAssertEqual(GradientCheck.check(layer, training: false), [])
    }

    func testDropoutInferenceIsIdentity() throws {
        let layer = try build(Dropout.registration, ["rate": 0.9], [[50]])
        let x = random([4, 50])
        XCTAssertEqual(run(layer, [x], training: false).array, x.array)
    }

    func testDropoutTrainingStatistics() throws {
        let p: Float = 0.3, count = 100_000
        let layer = try build(Dropout.registration, ["rate": .double(Double(p))], [[count / 4]])
        // Positive inputs, so the mean is far from zero and its preservation is measurable.
        let x = Tensor(shape: [4, count / 4], values: random([4, count / 4]).array.map { $0 + 1.5 })
        let y = run(layer, [x], training: true)
        var zeros = 0, misscaled = 0, inMean = 0.0, outMean = 0.0
        for i in 0..<count {
            inMean += Double(x.data[i]); outMean += Double(y.data[i])
            if y.data[i] == 0 { zeros += 1 }
            else if abs(y.data[i] - x.data[i] / (1 - p)) > 1e-5 { misscaled += 1 }
        }
        XCTAssertEqual(misscaled, 0, "kept elements must be scaled by 1/(1 − p)")
        XCTAssertEqual(Double(zeros) / Double(count), Double(p), accuracy: 0.01)
        XCTAssertEqual(outMean / inMean, 1, accuracy: 0.02)
        // Another seed draws another mask.
        XCTAssertNotEqual(run(layer, [x], training: true, seed: 2).array, y.array)
    }

    func testDropoutConfigErrors() {
        let one = buildError(Dropout.registration, ["rate": 1], [[4]])
        XCTAssertTrue(one.contains("layer.rate: must be in [0, 1), got 1"), one)
        let negative = buildError(Dropout.registration, ["rate": -0.1], [[4]])
        XCTAssertTrue(negative.contains("layer.rate"), negative)
    }
}
