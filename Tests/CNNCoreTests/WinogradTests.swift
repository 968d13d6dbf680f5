import XCTest
import CNNCore
import CNNTestSupport

/// F(4×4, 3×3) against the 7-loop definitions of a 3x3 stride-1 convolution and its gradients.
final class WinogradTests: XCTestCase {
    /// (channels, height, width, filters, padding top, bottom, left, right): output sides that are
    /// and are not multiples of 4, every padding from 0 to 2, rows of fewer tiles than a vector
    /// and of more,
    /// and an image of more than `targetTiles` tiles, run in three blocks of tile rows.
    let cases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 5, 6, 3, 1, 1, 1, 1),
        (3, 7, 7, 2, 0, 0, 0, 0),
        (2, 4, 9, 3, 2, 1, 0, 2),
        (1, 1, 1, 2, 1, 1, 1, 1),
        (3, 20, 19, 5, 1, 1, 1, 1),
        (2, 9, 34, 3, 0, 2, 2, 1),
        (2, 50, 42, 3, 1, 1, 1, 1),
    ]

    private var buffers: [UnsafeMutablePointer<Float>] = []
    override func tearDown() {
        buffers.forEach { $0.deallocate() }
        buffers = []
    }

    /// A buffer freed after the test, holding `count` copies of `value`.
    func buffer(_ count: Int, _ value: Float) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        p.initialize(repeating: value, count: max(1, count))
        buffers.append(p)
        return p
    }

    func buffer(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let p = buffer(values.count, 0)
        p.update(from: values, count: values.count)
        return p
    }

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in rng.uniform(bound: 1) }
    }

    /// Chunks of 2 and 1 images: blocks of tile rows.
    func testForwardAndGradientsMatchTheDefinition() {
        check(images: [2, 1])
    }

    /// Chunks of 19 and 3 images: the small images' cases run two groups of 8 with lanes across
    /// images, then the 3 left over (and the 3 of the second chunk) as blocks of tile rows.
    func testLanesAcrossImagesMatchTheDefinition() {
        XCTAssertEqual(cases.map { WinogradPlan(channels: $0.0, height: $0.1, width: $0.2, filters: $0.3, padTop: $0.4,
                                                padBottom: $0.5, padLeft: $0.6, padRight: $0.7).lanesAcrossImages },
                       [true, true, true, true, false, false, false])
        check(images: [19, 3])
    }

    /// Forward, input gradient and weight gradient of `images.reduce(0, +)` images, run in chunks
    /// of `images`, against the definitions.
    func check(images chunks: [Int], file: StaticString = #filePath, line: UInt = #line) {
        for (k, (c, h, w, f, pt, pb, pl, pr)) in cases.enumerated() {
            let plan = WinogradPlan(channels: c, height: h, width: w, filters: f,
                                    padTop: pt, padBottom: pb, padLeft: pl, padRight: pr)
            let (oh, ow) = (h + pt + pb - 2, w + pl + pr - 2)
            XCTAssertEqual([plan.outHeight, plan.outWidth], [oh, ow])
            if k == cases.count - 1 { XCTAssertEqual([plan.tiles, plan.rowsPerBlock], [143, 5]) }
            let images = chunks.reduce(0, +), label = "case \(k), chunks \(chunks)"
            let x = random(images * c * h * w, seed: UInt64(k)), wt = random(f * c * 9, seed: 100 + UInt64(k))
            let dy = random(images * f * oh * ow, seed: 200 + UInt64(k))

            // The definition, and dX and dW by the chain rule.
            let definition = ReferenceConvolution(channels: c, height: h, width: w, filters: f,
                                                  kernel: (3, 3), padding: (pt, pb, pl, pr))
            let xT = Tensor(shape: [images, c, h, w], values: x), wT = Tensor(shape: [f, c, 3, 3], values: wt)
            let dyT = Tensor(shape: [images, f, oh, ow], values: dy)
            let y = definition.forward(xT, weight: wT, bias: nil)
            let dx = definition.inputGradient(dyT, weight: wT), dw = definition.weightGradient(xT, dyT)

            let back = plan.inputGradientPlan
            XCTAssertEqual([back.outHeight, back.outWidth], [h, w], label)
            let most = chunks.max()!
            let ws = buffer(max(plan.forwardFloats(images: most), back.forwardFloats(images: most)), .nan)
            let u = buffer(plan.weightFloats, 0), ub = buffer(back.weightFloats, 0), transformed = buffer(plan.weightFloats, 0)
            let xs = buffer(x), dys = buffer(dy)
            plan.transformWeights(buffer(wt), flipped: false, into: u, pool: .shared)
            back.transformWeights(buffer(wt), flipped: true, into: ub, pool: .shared)
            // Into outputs pre-filled so that `adding` shows: the first chunk adds, the rest write.
            let yOut = buffer(y.count, 0.5), dxOut = buffer(dx.count, 0.5), dwOut = buffer(dw.count, 0.5)
            for (j, count) in chunks.enumerated() {
                let first = chunks.prefix(j).reduce(0, +)
                let (xi, yi) = (first * c * h * w, first * f * oh * ow)
                plan.forward(xs + xi, images: count, weights: u, into: yOut + yi, adding: first == 0, workspace: ws)
                back.forward(dys + yi, images: count, weights: ub, into: dxOut + xi, adding: true, workspace: ws)
                plan.weightGradient(xs + xi, dy: dys + yi, images: count, into: transformed, workspace: ws)
            }
            plan.addWeightGradient(transformed, into: dwOut)
            let yExpected = y.indices.map { y[$0] + ($0 < chunks[0] * f * oh * ow ? 0.5 : 0) }
            // Within 1e-4 of the largest magnitude: an entry summing thousands of products of
            // either sign may end small, and F(4×4, 3×3)'s transforms scale its rounding by the
            // terms, not the sum.
            let tolerance = Tolerance.relativeToLargest(1e-4)
            assertClose(Array(UnsafeBufferPointer(start: yOut, count: y.count)), yExpected, within: tolerance,
                        "\(label) y", file: file, line: line)
            assertClose(Array(UnsafeBufferPointer(start: dxOut, count: dx.count)), dx.map { $0 + 0.5 },
                        within: tolerance, "\(label) dx", file: file, line: line)
            assertClose(Array(UnsafeBufferPointer(start: dwOut, count: dw.count)), dw.map { $0 + 0.5 },
                        within: tolerance, "\(label) dw", file: file, line: line)
        }
    }
}
