import CNNAVX512
import CNNCore
import Foundation
import XCTest

/// `LSTMCell`'s passes against the LSTM equations in Double with the exact σ and tanh: 3 rows of
/// H = 32 (two vectors per gate), h and dy rows wider than H (their extra columns untouched),
/// gate sums that already hold values (they are added to); and backward in place, the gate
/// gradients written over the gates, as an LSTM runs it.
final class LSTMCellTests: XCTestCase {
    let rows = 3, hidden = 32, stride = 40

    func testForwardAndBackwardFollowTheEquations() throws {
        try XCTSkipUnless(CPUFeatures.avx512Kernels, "the kernel needs AVX-512")
        var rng = RNG(seed: 7)
        func random(_ count: Int, _ bound: Float) -> [Float] { (0..<count).map { _ in rng.uniform(bound: bound) } }
        let g4 = 4 * hidden
        let pre = random(rows * g4, 4), cPrev = random(rows * hidden, 2), dy = random(rows * stride, 1)
        let dhCarry = random(rows * hidden, 1), dcStart = random(rows * hidden, 1), sumsStart = random(g4, 1)

        var gates = pre, cell = [Float](repeating: 0, count: rows * hidden), tanhCell = cell
        var h = [Float](repeating: .nan, count: rows * stride)
        LSTMCell.forward(rows: rows, hidden: hidden, gates: &gates, cPrev: cPrev, cell: &cell, tanhCell: &tanhCell,
                         h: &h, hStride: stride)
        var dGates = [Float](repeating: 0, count: rows * g4), dcCarry = dcStart, sums = sumsStart
        LSTMCell.backward(rows: rows, hidden: hidden, gates: gates, cPrev: cPrev, tanhCell: tanhCell, dy: dy,
                          dyStride: stride, dhCarry: dhCarry, dcCarry: &dcCarry, dGates: &dGates, gateSums: &sums)

        var inPlace = gates, dcInPlace = dcStart, sumsInPlace = sumsStart
        inPlace.withUnsafeMutableBufferPointer { g in
            LSTMCell.backward(rows: rows, hidden: hidden, gates: g.baseAddress!, cPrev: cPrev, tanhCell: tanhCell, dy: dy,
                              dyStride: stride, dhCarry: dhCarry, dcCarry: &dcInPlace, dGates: g.baseAddress!,
                              gateSums: &sumsInPlace)
        }
        XCTAssertEqual(inPlace, dGates)
        XCTAssertEqual(dcInPlace, dcCarry)
        XCTAssertEqual(sumsInPlace, sums)

        func sigmoid(_ v: Float) -> Double { 1 / (1 + exp(-Double(v))) }
        var expectedSums = sumsStart.map(Double.init)
        for b in 0..<rows {
            for j in 0..<hidden {
                let p = b * g4 + j, at = b * hidden + j
                let i = sigmoid(pre[p]), f = sigmoid(pre[p + hidden]), g = tanh(Double(pre[p + 2 * hidden]))
                let o = sigmoid(pre[p + 3 * hidden]), cp = Double(cPrev[at])
                let c = f * cp + i * g, tc = tanh(c)
                for (value, exact) in [(gates[p], i), (gates[p + hidden], f), (gates[p + 2 * hidden], g),
                                       (gates[p + 3 * hidden], o), (cell[at], c), (tanhCell[at], tc),
                                       (h[b * stride + j], o * tc)] {
                    XCTAssertEqual(Double(value), exact, accuracy: 2e-6, "forward row \(b) unit \(j)")
                }
                let dh = Double(dy[b * stride + j]) + Double(dhCarry[at])
                let dc = Double(dcStart[at]) + dh * o * (1 - tc * tc)
                let grads = [dc * g * i * (1 - i), dc * cp * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)]
                for (k, exact) in grads.enumerated() {
                    XCTAssertEqual(Double(dGates[p + k * hidden]), exact, accuracy: 1e-5, "gate \(k) row \(b) unit \(j)")
                    expectedSums[k * hidden + j] += exact
                }
                XCTAssertEqual(Double(dcCarry[at]), dc * f, accuracy: 1e-5, "dc₋₁ row \(b) unit \(j)")
            }
            XCTAssert(h[b * stride + hidden..<(b + 1) * stride].allSatisfy(\.isNaN), "wrote past H in row \(b)")
        }
        for (k, exact) in expectedSums.enumerated() { XCTAssertEqual(Double(sums[k]), exact, accuracy: 1e-4, "sum \(k)") }
        XCTAssertFalse(LSTMCell.supports(hidden: 24))
    }
}
