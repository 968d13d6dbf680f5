import XCTest
import CNNConfig
@testable import CNNLayers
import CNNCore
import CNNTestSupport

private func transposed(_ config: JSONValue, _ input: Shape) throws -> any Layer {
    try GradientCheck.build(ConvTranspose2D.registration, config: config, inputs: [input])
}

private func seeded(_ shape: Shape, seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) }
    return t
}

/// The description of the error that building throws (fails the test when none is thrown).
private func transposeError(_ config: JSONValue, _ input: Shape,
                            file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try transposed(config, input)
        XCTFail("no error for \(config)", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}

final class ConvTranspose2DTests: XCTestCase {
    func testRegistrationGradient() throws {
        XCTAssertEqual(try GradientCheck.check(ConvTranspose2D.registration), [])
    }

    func testGradientStride2Padding1OutputPadding1() throws {
        let configs: [(JSONValue, Shape)] = [
            (["filters": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1],
             [3, 4, 5]),
            (["filters": 3, "kernel": [2, 3], "dilation": 2, "bias": false], [2, 3, 3]),
        ]
        for (config, input) in configs {
            XCTAssertEqual(GradientCheck.check(try transposed(config, input)), [], "\(config)")
        }
    }

    /// Forward against the definition: every input pixel scatters its weighted kernel, which is
    /// the input gradient of the convolution from `[F, OH, OW]` to `[C, H, W]` with the same
    /// `[C, F, kh, kw]` weight; plus the bias.
    func testForwardMatchesNaiveScatter() throws {
        let (N, C, H, W, F) = (2, 3, 4, 5, 2)
        let (kh, kw, sh, sw, ph, pw, dh, dw, oph, opw) = (3, 2, 2, 3, 1, 1, 1, 2, 1, 2)
        let layer = try transposed(
            ["filters": .int(F), "kernel": [.int(kh), .int(kw)], "stride": [.int(sh), .int(sw)],
             "padding": [.int(ph), .int(pw)], "dilation": [.int(dh), .int(dw)],
             "output_padding": [.int(oph), .int(opw)]], [C, H, W])
        let (OH, OW) = ((H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1,
                        (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1)
        XCTAssertEqual(layer.outputShape, [F, OH, OW])
        XCTAssertEqual(layer.parameterSpecs.map(\.shape), [[C, F, kh, kw], [F]])

        let x = seeded([N, C, H, W], seed: 1)
        let weight = seeded([C, F, kh, kw], seed: 2), bias = seeded([F], seed: 3)
        let y = GradientCheck.forward(layer, inputs: [x], parameters: [weight, bias])
        let convolution = ReferenceConvolution(channels: F, height: OH, width: OW, filters: C,
                                               kernel: (kh, kw), stride: (sh, sw),
                                               padding: (ph, ph, pw, pw), dilation: (dh, dw))
        XCTAssertEqual([convolution.outHeight, convolution.outWidth], [H, W])
        let scattered = convolution.inputGradient(x, weight: weight)
        assertClose(y, scattered.indices.map { scattered[$0] + Double(bias.data[$0 / (OH * OW) % F]) },
                    within: .absolute(1e-4))
    }

    /// ⟨convT(x), z⟩ = ⟨x, conv(z)⟩ when conv2d (filters C) uses the same `[C, F, kh, kw]` weight.
    func testAdjointOfConv2D() throws {
        let (C, F) = (2, 3)
        let transpose = try transposed(["filters": .int(F), "kernel": 3, "stride": 2, "padding": 1,
                                        "output_padding": 1, "bias": false], [C, 4, 3])
        XCTAssertEqual(transpose.outputShape, [F, 8, 6])
        let conv = try GradientCheck.build(
            Conv2D.registration,
            config: ["filters": .int(C), "kernel": 3, "stride": 2, "padding": 1, "bias": false],
            inputs: [[F, 8, 6]])
        XCTAssertEqual(conv.outputShape, [C, 4, 3])
        let weight = seeded([C, F, 3, 3], seed: 5)
        let x = seeded([1, C, 4, 3], seed: 6), z = seeded([1, F, 8, 6], seed: 7)
        let tx = GradientCheck.forward(transpose, inputs: [x], parameters: [weight])
        let cz = GradientCheck.forward(conv, inputs: [z], parameters: [weight])
        let lhs = zip(tx.array, z.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.array, cz.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
    }

    func testShapesInitAndMacs() throws {
        // DCGAN's generator step: 4x4 → 8x8 with a 4x4 kernel, stride 2, padding 1.
        let dcgan = try transposed(["filters": 8, "kernel": 4, "stride": 2, "padding": 1],
                                   [16, 4, 4])
        XCTAssertEqual(dcgan.outputShape, [8, 8, 8])
        // PyTorch's fan_in for ConvTranspose2d is weight.size(1)·kh·kw = 8·4·4.
        let bound = 1 / Float(8 * 4 * 4).squareRoot()
        XCTAssertEqual(dcgan.parameterSpecs.map(\.initializer),
                       [.uniform(bound: bound), .uniform(bound: bound)])
        XCTAssertEqual(dcgan.parameterSpecs.map(\.name), ["weight", "bias"])
        // torchinfo: (16·8·4·4 + 8) parameters × 8·8 output positions.
        XCTAssertEqual(dcgan.macs, (16 * 8 * 16 + 8) * 64)
        let odd = try transposed(["filters": 1, "kernel": 3, "stride": 2, "padding": 1,
                                  "output_padding": 1], [1, 7, 7])
        XCTAssertEqual(odd.outputShape, [1, 14, 14])
    }

    func testConfigErrors() {
        let stride = transposeError(["filters": 2, "kernel": 3, "stride": 0], [1, 4, 4])
        XCTAssert(stride.contains("layer.stride: must be") && stride.hasSuffix("got 0"), stride)
        let filters = transposeError(["filters": 0, "kernel": 3], [1, 4, 4])
        XCTAssert(filters.contains("layer.filters: must be ≥ 1, got 0"), filters)
        let extra = transposeError(["filters": 2, "kernel": 3, "stride": 2, "output_padding": 2],
                                   [1, 4, 4])
        XCTAssert(extra.contains("layer.output_padding: must be smaller than the stride or the "
                                 + "dilation, got 2"), extra)
        let pad = transposeError(["filters": 2, "kernel": 1, "padding": 1], [1, 2, 2])
        XCTAssert(pad.contains("layer.padding: height: (2 − 1)·1 − 2·1 + 1·(1 − 1) + 0 + 1 = 0"),
                  pad)
        let asymmetric = transposeError(["filters": 2, "kernel": 3, "padding": [1, 0, 1, 0]],
                                        [1, 4, 4])
        XCTAssert(asymmetric.contains("layer.padding"), asymmetric)
        let unknown = transposeError(["filters": 2, "kernel": 3, "padding_mode": "reflect"],
                                     [1, 4, 4])
        XCTAssert(unknown.contains("unknown key \"padding_mode\""), unknown)
    }
}
