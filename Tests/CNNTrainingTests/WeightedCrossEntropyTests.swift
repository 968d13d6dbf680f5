import XCTest
import CNNCore
import CNNTestSupport
@testable import CNNTraining

/// Class weights and an ignored label (VOC's 255) in the softmax cross-entropy, against PyTorch.
final class WeightedCrossEntropyTests: XCTestCase {
    private let logits: [Float] = [2, -1, 0.5, 0.1, 0.2, 0.3, -3, 4, 1, 1, 1, -2]
    private let labels: [Int32] = [0, 2, 255, 1]
    private let weights: [Float] = [0.5, 2, 1]

    private func evaluate(smoothing: Float) -> (Double, [Float]) {
        let g = Tensor(shape: [4, 3])
        let loss = labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [4, 3], values: logits), labels: $0, smoothing: smoothing,
                                         classWeights: weights, ignoreIndex: 255, gradient: g)
        }
        return (loss, g.array)
    }

    /// torch.nn.functional.cross_entropy(x, y, weight=w, ignore_index=255, label_smoothing=ε)
    /// with these x, y, w (torch 2.15): the loss and x.grad.
    func testMatchesPyTorch() {
        let (plain, g0) = evaluate(smoothing: 0)
        XCTAssertEqual(plain, 0.7308772802352905, accuracy: 1e-6)
        assertClose(g0, [-0.030628997832536697, 0.005587510298937559, 0.0250414852052927, 0.08588846027851105,
                         0.09492142498493195, -0.1808099001646042, 0, 0, 0, 0.278774619102478, -0.29265397787094116,
                         0.013879373669624329], within: .absolute(1e-6))
        let (smoothed, g1) = evaluate(smoothing: 0.1)
        XCTAssertEqual(smoothed, 0.8260129690170288, accuracy: 1e-6)
        assertClose(g1, [-0.006141433492302895, -0.012715108692646027, 0.018856536597013474, 0.08255802094936371,
                         0.07745581865310669, -0.1600138545036316, 0, 0, 0, 0.26239708065986633, -0.26617431640625,
                         0.0037772555369883776], within: .absolute(1e-6))
    }

    func testEveryRowIgnoredIsZeroWithoutGradient() {
        let g = Tensor(shape: [2, 3])
        let loss = [Int32(255), 255].withUnsafeBufferPointer {
            SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), labels: $0,
                                         ignoreIndex: 255, gradient: g)
        }
        XCTAssertEqual(loss, 0)
        XCTAssertEqual(g.array, [Float](repeating: 0, count: 6))
    }
}
