import CNNCore
import XCTest

@testable import CNNData

final class AugmentationTests: XCTestCase {
    /// A 3x3 image 1…9 (row-major) and, for two-channel tests, a second plane 10…18.
    let image: [Float] = (1...9).map(Float.init)
    let twoChannels: [Float] = (1...18).map(Float.init)

    /// The first seed whose draws, in `Augmentation`'s documented order (crop top, crop left,
    /// flip, shift x, shift y), are the wanted ones — so the expected images below can be
    /// written by hand from known offsets.
    private func seed(for a: Augmentation, crop: (Int, Int)? = nil, flip: Bool? = nil,
                      shift: (Int, Int)? = nil) -> UInt64 {
        for s in UInt64(0)..<10_000 {
            var rng = RNG(seed: s)
            if let (y, x) = crop {
                let p = a.cropPadding
                guard Permutation.below(2 * p + 1, rng: &rng) - p == y,
                      Permutation.below(2 * p + 1, rng: &rng) - p == x else { continue }
            }
            if let flip, (rng.uniform() < 0.5) != flip { continue }
            if let (x, y) = shift {
                let t = a.translate
                guard Permutation.below(2 * t + 1, rng: &rng) - t == x,
                      Permutation.below(2 * t + 1, rng: &rng) - t == y else { continue }
            }
            return s
        }
        fatalError("no seed gives those draws")
    }

    private func apply(_ a: Augmentation, _ values: [Float], shape: Shape,
                       seed: UInt64) -> [Float] {
        var x = values
        var scratch = [Float](repeating: .nan, count: values.count)
        var rng = RNG(seed: seed)
        x.withUnsafeMutableBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { s in
                a.apply(x.baseAddress!, shape: shape, rng: &rng, scratch: s.baseAddress!)
            }
        }
        return x
    }

    func testRandomCropIsAZeroFilledShift() {
        let a = Augmentation(cropPadding: 1)
        // Top i = 0, left j = 2 of the padded 5x5 image: y[r][c] = x[r − 1][c + 1].
        let s = seed(for: a, crop: (-1, 1))
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: s),
                       [0, 0, 0,
                        2, 3, 0,
                        5, 6, 0])
        // i = j = 1 is the centre crop: the image itself.
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: seed(for: a, crop: (0, 0))),
                       image)
    }

    func testHorizontalFlip() {
        let a = Augmentation(horizontalFlip: true)
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: seed(for: a, flip: true)),
                       [3, 2, 1, 6, 5, 4, 9, 8, 7])
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: seed(for: a, flip: false)),
                       image)
    }

    func testTranslation() {
        let a = Augmentation(translate: 1)
        // tx = +1 (right), ty = −1 (up): y[r][c] = x[r + 1][c − 1].
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: seed(for: a, shift: (1, -1))),
                       [0, 4, 5,
                        0, 7, 8,
                        0, 0, 0])
    }

    func testAllThreeComposeOnEveryChannel() {
        let a = Augmentation(cropPadding: 1, horizontalFlip: true, translate: 1)
        // Centre crop, flip, then shift right by 1: y[r][c] = x[r][2 − (c − 1)] = x[r][3 − c]
        // for c ≥ 1, 0 in column 0.
        let s = seed(for: a, crop: (0, 0), flip: true, shift: (1, 0))
        XCTAssertEqual(apply(a, twoChannels, shape: [2, 3, 3], seed: s),
                       [0, 3, 2, 0, 6, 5, 0, 9, 8,
                        0, 12, 11, 0, 15, 14, 0, 18, 17])
        // Crop y1[r][c] = x[r − 1][c − 1], no flip, shift left y[r][c] = y1[r][c + 1]: so
        // y[r][c] = x[r − 1][c], except column 2, which would need y1[r][3]: the crop pushed x's
        // last column out and the shift does not bring it back (zero fill happens per step).
        let t = seed(for: a, crop: (-1, -1), flip: false, shift: (-1, 0))
        XCTAssertEqual(apply(a, image, shape: [1, 3, 3], seed: t),
                       [0, 0, 0,
                        1, 2, 0,
                        4, 5, 0])
    }
}
