import XCTest
import CNNCore
@testable import CNNTraining

final class LossTests: XCTestCase {
    typealias Loss = (Tensor, UnsafeBufferPointer<Int32>, Float, Tensor?, Float) -> Double

    let softmax: Loss = {
        SoftmaxCrossEntropy.evaluate(logits: $0, labels: $1, smoothing: $2, gradient: $3,
                                     weight: $4)
    }
    let binary: Loss = {
        BinaryCrossEntropy.evaluate(logits: $0, labels: $1, smoothing: $2, gradient: $3,
                                    weight: $4)
    }
    let squared: Loss = {
        MeanSquaredError.evaluate(logits: $0, labels: $1, smoothing: $2, gradient: $3, weight: $4)
    }

    func value(_ loss: Loss, _ logits: [Float], _ shape: Shape, _ labels: [Int32],
               smoothing: Float = 0) -> Double {
        labels.withUnsafeBufferPointer {
            loss(Tensor(shape: shape, values: logits), $0, smoothing, nil, 1)
        }
    }

    /// Compares `weight·∂L/∂x` ADDED to a gradient pre-filled with 0.5 against central
    /// differences of the returned (Double) loss. The step is divided by the difference of the
    /// Float inputs actually evaluated, so input rounding does not enter the estimate.
    func checkGradient(_ loss: Loss, _ logits: [Float], _ shape: Shape, _ labels: [Int32],
                       smoothing: Float, weight: Float = 0.75,
                       file: StaticString = #filePath, line: UInt = #line) {
        labels.withUnsafeBufferPointer { labels in
            let x = Tensor(shape: shape, values: logits)
            let g = Tensor(shape: shape)
            g.fill(0.5)
            let before = loss(x, labels, smoothing, nil, 1)
            let reported = loss(x, labels, smoothing, g, weight)
            XCTAssertEqual(reported, before, "the loss does not depend on the gradient or weight",
                           file: file, line: line)
            for i in 0..<x.count {
                let original = x.data[i]
                x.data[i] = original + 1e-2
                let plus = loss(x, labels, smoothing, nil, 1), xPlus = Double(x.data[i])
                x.data[i] = original - 1e-2
                let minus = loss(x, labels, smoothing, nil, 1), xMinus = Double(x.data[i])
                x.data[i] = original
                let numeric = Double(weight) * (plus - minus) / (xPlus - xMinus)
                XCTAssertEqual(Double(g.data[i]) - 0.5, numeric, accuracy: 1e-5,
                               "element \(i)", file: file, line: line)
            }
        }
    }

    // MARK: - Softmax cross-entropy

    func testSoftmaxCrossEntropyHandValues() {
        // Sample 1: logits [1, 2, 3], label 2: lse = log(e + e² + e³) = 3.40760596444438,
        // loss = lse − 3 = 0.40760596444438013. Sample 2: [0.5, −1, 2], label 0:
        // lse = log(e^0.5 + e^−1 + e²) = 2.241311296657157, loss = 1.7413112966571571.
        // Batch mean (0.40760596444438 + 1.74131129665716)/2 = 1.0744586305507686.
        XCTAssertEqual(value(softmax, [1, 2, 3], [1, 3], [2]), 0.40760596444438013,
                       accuracy: 1e-12)
        XCTAssertEqual(value(softmax, [1, 2, 3, 0.5, -1, 2], [2, 3], [2, 0]),
                       1.0744586305507686, accuracy: 1e-12)
    }

    func testSoftmaxCrossEntropyLabelSmoothing() {
        // ε = 0.1, C = 3, logits [1, 2, 3], label 2: t = [1/30, 1/30, 0.9 + 1/30];
        // loss = lse − 0.9·3 − (0.1/3)·(1 + 2 + 3) = 3.40760596444438 − 2.7 − 0.2.
        // PyTorch's form agrees: (1 − ε)·nll + ε·mean_k(−log p_k)
        // = 0.9·0.40760596 + 0.1·(3·3.40760596 − 6)/3 = 0.50760596444438.
        // ε is a Float (0.1f = 0.10000000149), hence the looser tolerance.
        XCTAssertEqual(value(softmax, [1, 2, 3], [1, 3], [2], smoothing: 0.1),
                       0.50760596444438, accuracy: 1e-8)
        // ε = 1 makes the target uniform: loss = lse − mean(x) = 3.40760596 − 2.
        XCTAssertEqual(value(softmax, [1, 2, 3], [1, 3], [0], smoothing: 1),
                       1.40760596444438, accuracy: 1e-12)
    }

    func testSoftmaxCrossEntropyGradient() {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.7, 1.1, -0.4, 0.0, 0.9]
        checkGradient(softmax, logits, [2, 4], [2, 0], smoothing: 0)
        checkGradient(softmax, logits, [2, 4], [3, 1], smoothing: 0.2)
    }

    func testSoftmaxCrossEntropyGradientExactValues() {
        // logits [0, 0], label 0, n = 1: softmax = [½, ½], t = [1, 0] → ∂L/∂x = [−½, ½];
        // times weight 2 and added to [1, 1] gives [0, 2].
        let g = Tensor(shape: [1, 2], values: [1, 1])
        let loss = [Int32(0)].withUnsafeBufferPointer {
            SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [1, 2]), labels: $0,
                                         gradient: g, weight: 2)
        }
        XCTAssertEqual(loss, log(2), accuracy: 1e-12)
        XCTAssertEqual(g.array, [0, 2])
    }

    func testSoftmaxCrossEntropyIsStableOnHugeLogits() {
        // [1000, −1000, 0]: lse = 1000 + log(1 + e^−2000 + e^−1000) = 1000 exactly in Double.
        // Label 0 → 0; label 1 → 2000; mean 1000. Gradient (softmax [1, 0, 0] − onehot)/2.
        let g = Tensor(shape: [2, 3])
        let loss = [Int32(0), 1].withUnsafeBufferPointer {
            SoftmaxCrossEntropy.evaluate(
                logits: Tensor(shape: [2, 3], values: [1000, -1000, 0, 1000, -1000, 0]),
                labels: $0, gradient: g, weight: 1)
        }
        XCTAssertEqual(loss, 1000)
        XCTAssertEqual(g.array, [0, 0, 0, 0.5, -0.5, 0])
    }

    // MARK: - Binary cross-entropy

    func testBinaryCrossEntropyHandValues() {
        // C = 2, logits [0, 2], label 1 → t = [0, 1]:
        // ℓ(0, 0) = log 2 = 0.6931471805599453,
        // ℓ(2, 1) = max(2, 0) − 2·1 + log(1 + e^−2) = 0.1269280110429725;
        // mean over the n·C = 2 elements 0.4100375958014589.
        XCTAssertEqual(value(binary, [0, 2], [1, 2], [1]), 0.4100375958014589, accuracy: 1e-12)
        // ε = 0.2 (Keras): t = [0, 1]·0.8 + 0.1 = [0.1, 0.9]:
        // ℓ(0, 0.1) = log 2, ℓ(2, 0.9) = 2 − 1.8 + 0.126928011 → mean 0.5100375958014589.
        // ε is a Float (0.2f = 0.20000000298), hence the looser tolerance.
        XCTAssertEqual(value(binary, [0, 2], [1, 2], [1], smoothing: 0.2), 0.5100375958014589,
                       accuracy: 1e-8)
        // One output: the label is the target. x = −1: label 0 → log(1 + e^−1) = 0.31326168751822;
        // label 1 → 1 + 0.31326168751822.
        XCTAssertEqual(value(binary, [-1], [1, 1], [0]), 0.31326168751822286, accuracy: 1e-12)
        XCTAssertEqual(value(binary, [-1], [1, 1], [1]), 1.3132616875182228, accuracy: 1e-12)
    }

    func testBinaryCrossEntropyGradient() {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.7, 1.1, -0.4]
        checkGradient(binary, logits, [2, 3], [2, 0], smoothing: 0)
        checkGradient(binary, logits, [2, 3], [1, 1], smoothing: 0.3)
        checkGradient(binary, [0.4, -2.5, 1.5], [3, 1], [1, 0, 0], smoothing: 0.1)
    }

    func testBinaryCrossEntropyIsStableOnHugeLogits() {
        // [1000, −1000], label 0 → t = [1, 0]: both elements exactly right, loss 0.
        // Label 1 → t = [0, 1]: each element loses 1000; mean over n·C = 4 elements
        // 2000/4 = 500. Gradient (σ(x) − t)/4: sample 1 [1−1, 0−0]/4 = 0; sample 2 [1−0, 0−1]/4.
        let g = Tensor(shape: [2, 2])
        let loss = [Int32(0), 1].withUnsafeBufferPointer {
            BinaryCrossEntropy.evaluate(
                logits: Tensor(shape: [2, 2], values: [1000, -1000, 1000, -1000]),
                labels: $0, gradient: g, weight: 1)
        }
        XCTAssertEqual(loss, 500)
        XCTAssertEqual(g.array, [0, 0, 0.25, -0.25])
    }

    // MARK: - Mean squared error

    func testMeanSquaredErrorHandValues() {
        // [0.5, 0.2, −0.1] vs onehot(0) = [1, 0, 0]: (0.25 + 0.04 + 0.01)/3 = 0.1 (up to the
        // Float rounding of the inputs). Gradient 2·(x − t)/3 = [−1/3, 0.4/3, −0.2/3].
        let g = Tensor(shape: [1, 3])
        let loss = [Int32(0)].withUnsafeBufferPointer {
            MeanSquaredError.evaluate(logits: Tensor(shape: [1, 3], values: [0.5, 0.2, -0.1]),
                                      labels: $0, gradient: g, weight: 1)
        }
        XCTAssertEqual(loss, 0.1, accuracy: 1e-8)
        XCTAssertEqual(g.array[0], -1 / 3, accuracy: 1e-7)
        XCTAssertEqual(g.array[1], 0.4 / 3, accuracy: 1e-7)
        XCTAssertEqual(g.array[2], -0.2 / 3, accuracy: 1e-7)
        // ε = 0.3, C = 3: t = 0.7·onehot + 0.1 = [0.8, 0.1, 0.1] for label 0; logits equal to
        // t give 0. One output: the label is the target, label 0 with ε = 0.5 → t = 0.25.
        XCTAssertEqual(value(squared, [0.8, 0.1, 0.1], [1, 3], [0], smoothing: 0.3), 0,
                       accuracy: 1e-12)
        XCTAssertEqual(value(squared, [0.25], [1, 1], [0], smoothing: 0.5), 0)
        XCTAssertEqual(value(squared, [0.25], [1, 1], [1], smoothing: 0.5), 0.25)
    }

    func testMeanSquaredErrorGradient() {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.7, 1.1, -0.4]
        checkGradient(squared, logits, [2, 3], [2, 0], smoothing: 0)
        checkGradient(squared, logits, [2, 3], [1, 1], smoothing: 0.3)
        checkGradient(squared, [0.4, -2.5, 1.5], [3, 1], [1, 0, 0], smoothing: 0)
    }

    /// Trailing dimensions count as outputs: `[n, C, 1, 1]` is the same as `[n, C]`.
    func testTrailingDimensionsAreOutputs() {
        let logits: [Float] = [1, 2, 3, 0.5, -1, 2]
        for loss in [softmax, binary, squared] {
            XCTAssertEqual(value(loss, logits, [2, 3, 1, 1], [2, 0]),
                           value(loss, logits, [2, 3], [2, 0]))
        }
    }
}
