#if canImport(Glibc)
import Glibc
#endif
import CNNCore

/// One step of an image pipeline, with torchvision's name and semantics on PIL images
/// (`torchvision.transforms`, v1). Deterministic steps give the bytes torchvision gives;
/// random steps follow torchvision's algorithms with draws from the sample's own `RNG`, so
/// every sample of every epoch is reproducible from (seed, epoch, index).
public enum ImageTransform: Sendable, Equatable {
    /// `Resize(N)`: the shorter side to N, the longer to `int(N · long / short)`; or
    /// `Resize((h, w))`. Antialiased, as Pillow resizes.
    case resize(Size, PillowResample.Filter)
    /// `CenterCrop((h, w))`, zero-padding a side the image is smaller than.
    case centerCrop(height: Int, width: Int)
    /// `RandomResizedCrop((h, w), scale, ratio)`: a box of `scale` of the area and an aspect
    /// ratio drawn on a log scale, 10 tries, else the centred largest box within `ratio`;
    /// then resized to h x w.
    case randomResizedCrop(height: Int, width: Int, scale: ClosedRange<Double>,
                           ratio: ClosedRange<Double>, filter: PillowResample.Filter)
    /// `RandomCrop((h, w), padding, pad_if_needed=True)`: zero padding on every side, then a
    /// uniformly placed h x w window.
    case randomCrop(height: Int, width: Int, padding: Int)
    /// `RandomHorizontalFlip(p)`.
    case horizontalFlip(probability: Double)
    /// `ColorJitter(brightness, contrast, saturation)`: factors uniform in
    /// `[max(0, 1 − x), 1 + x]`, applied in a random order.
    case colorJitter(brightness: Double, contrast: Double, saturation: Double)

    public enum Size: Sendable, Equatable {
        case shorterSide(Int)
        case exact(height: Int, width: Int)
    }

    public var isRandom: Bool {
        switch self {
        case .resize, .centerCrop: false
        case .randomResizedCrop, .randomCrop, .horizontalFlip, .colorJitter: true
        }
    }

    /// The (height, width) this step makes of a `height` x `width` image.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch self {
        case .resize(.exact(let h, let w), _), .centerCrop(let h, let w),
             .randomResizedCrop(let h, let w, _, _, _), .randomCrop(let h, let w, _):
            return (h, w)
        case .resize(.shorterSide(let n), _):
            return Self.shorterSide(n, height: height, width: width)
        case .horizontalFlip, .colorJitter:
            return (height, width)
        }
    }

    /// torchvision's `_compute_resized_output_size` for an int size: the shorter side becomes
    /// `n`, the longer `int(n · long / short)` (truncated, in double precision as Python's).
    static func shorterSide(_ n: Int, height: Int, width: Int) -> (height: Int, width: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int((Double(n * long) / Double(short)).rounded(.towardZero))
        return width <= height ? (newLong, n) : (n, newLong)
    }

    /// Applies the step; random steps draw from `rng` only.
    public func apply(_ image: PixelImage, rng: inout RNG) -> PixelImage {
        switch self {
        case .resize(_, let filter):
            let (h, w) = outputSize(height: image.height, width: image.width)
            guard h != image.height || w != image.width else { return image }
            return PillowResample.resize(image, width: w, height: h, filter: filter)
        case .centerCrop(let h, let w):
            return Self.centerCrop(image, height: h, width: w)
        case .randomResizedCrop(let h, let w, let scale, let ratio, let filter):
            let box = Self.randomResizedBox(height: image.height, width: image.width,
                                            scale: scale, ratio: ratio, rng: &rng)
            let crop = image.cropped(top: box.top, left: box.left, height: box.height, width: box.width)
            guard h != crop.height || w != crop.width else { return crop }
            return PillowResample.resize(crop, width: w, height: h, filter: filter)
        case .randomCrop(let h, let w, let padding):
            // pad_if_needed: a side still shorter than the crop after `padding` is padded to it.
            let padH = max(padding, (h - image.height + 1) / 2), padW = max(padding, (w - image.width + 1) / 2)
            let fullH = image.height + 2 * padH, fullW = image.width + 2 * padW
            let top = Permutation.below(fullH - h + 1, rng: &rng)
            let left = Permutation.below(fullW - w + 1, rng: &rng)
            return image.cropped(top: top - padH, left: left - padW, height: h, width: w)
        case .horizontalFlip(let p):
            return Self.uniform(&rng) < p ? image.flippedHorizontally() : image
        case .colorJitter(let b, let c, let s):
            var order = [0, 1, 2]
            order.withUnsafeMutableBufferPointer { Permutation.shuffle($0.baseAddress!, count: 3, rng: &rng) }
            let factors = [b, c, s].map { x in x > 0 ? max(0, 1 - x) + Self.uniform(&rng) * (1 + x - max(0, 1 - x)) : 1 }
            var out = image
            for step in order where factors[step] != 1 {
                switch step {
                case 0: out = out.brightnessAdjusted(factors[0])
                case 1: out = out.contrastAdjusted(factors[1])
                default: out = out.saturationAdjusted(factors[2])
                }
            }
            return out
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    static func uniform(_ rng: inout RNG) -> Double { Double(rng.next() >> 11) * 0x1.0p-53 }

    /// torchvision's `F.center_crop`: zero padding (left/top get the smaller half) where the
    /// crop is larger, then the window at `round((H − h) / 2)`, `round((W − w) / 2)` with
    /// Python's round-half-to-even.
    static func centerCrop(_ image: PixelImage, height: Int, width: Int) -> PixelImage {
        let padTop = height > image.height ? (height - image.height) / 2 : 0
        let padLeft = width > image.width ? (width - image.width) / 2 : 0
        let padBottom = height > image.height ? (height - image.height + 1) / 2 : 0
        let padRight = width > image.width ? (width - image.width + 1) / 2 : 0
        let fullH = image.height + padTop + padBottom, fullW = image.width + padLeft + padRight
        let top = Int((Double(fullH - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(fullW - width) / 2).rounded(.toNearestOrEven))
        if top == 0 && left == 0 && height == image.height && width == image.width { return image }
        return image.cropped(top: top - padTop, left: left - padLeft, height: height, width: width)
    }

    /// `RandomResizedCrop.get_params`.
    static func randomResizedBox(height: Int, width: Int, scale: ClosedRange<Double>,
                                 ratio: ClosedRange<Double>, rng: inout RNG)
        -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Double(height * width)
        let logLow = log(ratio.lowerBound), logHigh = log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + uniform(&rng) * (scale.upperBound - scale.lowerBound))
            let aspect = exp(logLow + uniform(&rng) * (logHigh - logLow))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = Permutation.below(height - h + 1, rng: &rng)
                let left = Permutation.below(width - w + 1, rng: &rng)
                return (top, left, h, w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }
}
