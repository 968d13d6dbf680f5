import CNNCore

/// Random training-time transforms of one `[C, H, W]` sample, in torchvision's usual order:
///
/// 1. `RandomCrop((H, W), padding: cropPadding)`: pad by `p` on every side with zeros and cut
///    an H×W window at top `i`, left `j`, each uniform in 0…2p — i.e. `y[r][c] =
///    x[r + i − p][c + j − p]`, 0 where that is outside the image.
/// 2. `RandomHorizontalFlip(0.5)`: `y[r][c] = x[r][W − 1 − c]` when `uniform() < 0.5`.
/// 3. `RandomAffine(0, translate:)` with whole pixels: shift right by `tx` and down by `ty`,
///    each uniform in −t…t, `y[r][c] = x[r − ty][c − tx]`, 0 outside.
///
/// Random numbers are drawn in that order (i, j, flip, tx, ty), only for enabled steps.
///
/// The loader applies this *after* `Normalization`, so the zero fill is the dataset mean — a
/// neutral value for the first layer — where torchvision, cropping before `ToTensor` and
/// `Normalize`, fills with black (`−mean/std` after normalizing). Without normalization the
/// two agree.
public struct Augmentation: Sendable, Equatable {
    public var cropPadding: Int
    public var horizontalFlip: Bool
    public var translate: Int

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, translate: Int = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.translate = translate
    }

    /// Transforms `sample` (of `shape`, rank 3) in place; `scratch` holds `shape.count` floats.
    /// A segmentation `mask` (`[H, W]` labels) gets the same geometry, its uncovered pixels
    /// `maskFill` (torchvision's segmentation references fill them with the ignored label).
    public func apply(_ sample: UnsafeMutablePointer<Float>, shape: Shape, rng: inout RNG,
                      scratch: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Int32>? = nil,
                      maskFill: Int32 = 0) {
        precondition(shape.rank == 3, "augmentation needs [C, H, W] samples, got \(shape)")
        var cropY = 0, cropX = 0, flip = false, shiftX = 0, shiftY = 0
        if cropPadding > 0 {
            cropY = Permutation.below(2 * cropPadding + 1, rng: &rng) - cropPadding
            cropX = Permutation.below(2 * cropPadding + 1, rng: &rng) - cropPadding
        }
        if horizontalFlip { flip = rng.uniform() < 0.5 }
        if translate > 0 {
            shiftX = Permutation.below(2 * translate + 1, rng: &rng) - translate
            shiftY = Permutation.below(2 * translate + 1, rng: &rng) - translate
        }
        if cropY == 0 && cropX == 0 && !flip && shiftX == 0 && shiftY == 0 { return }

        // The three steps composed per output pixel, walking back from the output: undo the
        // shift (nothing if it leaves the image), undo the flip, undo the crop (nothing if it
        // leaves the image). One pass into scratch, one copy back, per plane.
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let plane = height * width
        func source(_ r: Int, _ c: Int) -> Int? {
            let r1 = r - shiftY, r2 = r1 + cropY, c1 = c - shiftX
            let c2 = (flip ? width - 1 - c1 : c1) + cropX
            guard r1 >= 0 && r1 < height && r2 >= 0 && r2 < height && c1 >= 0 && c1 < width && c2 >= 0 && c2 < width
            else { return nil }
            return r2 * width + c2
        }
        for r in 0..<height {
            for c in 0..<width {
                let from = source(r, c)
                for ch in 0..<channels {
                    scratch[ch * plane + r * width + c] = from.map { sample[ch * plane + $0] } ?? 0
                }
            }
        }
        sample.update(from: scratch, count: channels * plane)
        guard let mask else { return }
        scratch.withMemoryRebound(to: Int32.self, capacity: plane) { labels in
            for r in 0..<height {
                for c in 0..<width { labels[r * width + c] = source(r, c).map { mask[$0] } ?? maskFill }
            }
            mask.update(from: labels, count: plane)
        }
    }
}
