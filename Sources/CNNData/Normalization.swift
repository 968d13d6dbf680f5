import CNNCore
import Synchronization

/// Per-channel standardisation, torchvision's `Normalize(mean, std)`:
///
///     x[c, …] ← (x[c, …] − mean[c]) / std[c]
///
/// The channel is the first dimension of a `[C, H, W]` sample; a sample of rank 1 is one
/// channel. `compute` measures the statistics over a whole dataset.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// The number of channels of `shape` in this convention.
    public static func channels(of shape: Shape) -> Int { shape.rank >= 2 ? shape[0] : 1 }

    /// Mean and population standard deviation of each channel over every sample and position
    /// (what `data.mean(dim=(0, 2, 3))`, `data.std(dim=(0, 2, 3), unbiased=False)` give in
    /// PyTorch), accumulated in Double in two passes so 47 million Fashion-MNIST pixels lose
    /// nothing to cancellation. A constant channel gets std 1, as scikit-learn's
    /// `StandardScaler` does, so applying the result never divides by zero.
    public static func compute(from dataset: LabeledDataset) -> Normalization {
        let channels = channels(of: dataset.sampleShape)
        let plane = dataset.sampleShape.count / channels
        let n = Double(dataset.count * plane)
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        dataset.values.withUnsafeBufferPointer { v in
            for s in 0..<dataset.count {
                for c in 0..<channels {
                    let x = v.baseAddress! + (s * channels + c) * plane
                    var sum = 0.0
                    for k in 0..<plane { sum += Double(x[k]) }
                    sums[c] += sum
                }
            }
            for s in 0..<dataset.count {
                for c in 0..<channels {
                    let x = v.baseAddress! + (s * channels + c) * plane
                    let m = sums[c] / n
                    var sum = 0.0
                    for k in 0..<plane {
                        let d = Double(x[k]) - m
                        sum += d * d
                    }
                    squares[c] += sum
                }
            }
        }
        let std = squares.map { $0 > 0 ? Float(($0 / n).squareRoot()) : 1 }
        return Normalization(mean: sums.map { Float($0 / n) }, std: std)
    }

    /// Normalizes one sample of `shape` in place; `mean` and `std` have one entry per channel.
    public func apply(_ sample: UnsafeMutablePointer<Float>, shape: Shape) {
        let channels = Self.channels(of: shape)
        let plane = shape.count / channels
        mean.withUnsafeBufferPointer { mean in
            std.withUnsafeBufferPointer { std in
                for c in 0..<channels {
                    let x = sample + c * plane, m = mean[c], s = std[c]
                    for k in 0..<plane { x[k] = (x[k] - m) / s }
                }
            }
        }
    }
}

extension Normalization {
    /// The per-channel mean and population standard deviation of `ToTensor`'s `byte / 255` over
    /// every pixel of every image of `set` as decoded, from exact per-channel histograms of the
    /// 256 byte values (so the order the threads decode in does not matter). A constant channel
    /// gets std 1.
    static func compute(fromImages set: ImageSet, threads: Int) throws -> Normalization {
        let c = set.channels
        // The sum of all histograms, and the first failure by index.
        let state = Mutex<(total: [Int], failure: (Int, Error)?)>(([Int](repeating: 0, count: 256 * c), nil))
        ParallelLoop.run(count: set.count, threads: threads) { i in
            do {
                var h = [Int](repeating: 0, count: 256 * c)
                let image = try set.decode(i)
                for (k, v) in image.pixels.enumerated() { h[(k % c) * 256 + Int(v)] += 1 }
                state.withLock { s in for k in 0..<h.count { s.total[k] += h[k] } }
            } catch {
                state.withLock { s in if s.failure == nil || s.failure!.0 > i { s.failure = (i, error) } }
            }
        }
        let (total, failure) = state.withLock { ($0.total, $0.failure) }
        if let failure { throw failure.1 }
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            let h = total[ch * 256..<(ch + 1) * 256]
            let n = Double(h.reduce(0, +))
            let m = h.enumerated().reduce(0.0) { $0 + Double($1.element) * Double($1.offset) / 255 } / n
            let v = h.enumerated().reduce(0.0) {
                let d = Double($1.offset) / 255 - m
                return $0 + Double($1.element) * d * d
            } / n
            mean.append(Float(m))
            std.append(v > 0 ? Float(v.squareRoot()) : 1)
        }
        return Normalization(mean: mean, std: std)
    }
}
