import CNNCore

/// What turns a decoded image into a model input: the PIL-domain steps in order, then
/// torchvision's `ToTensor` (`[C, H, W]`, `byte / 255` in single precision) and `Normalize`.
///
/// The steps before the first random one give the same image every epoch; `prepare` runs only
/// those, so a cache can hold their result, and `finish` runs the rest for one epoch's draw.
public struct ImagePipeline: Sendable, Equatable {
    public var steps: [ImageTransform]
    /// Applied after `ToTensor`; nil for none (inputs in [0, 1]).
    public var normalization: Normalization?

    public init(steps: [ImageTransform], normalization: Normalization?) {
        self.steps = steps
        self.normalization = normalization
    }

    /// How many leading steps are deterministic.
    public var preparedSteps: Int { steps.firstIndex(where: \.isRandom) ?? steps.count }

    /// The (height, width) of the model input made from a `height` x `width` image.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        steps.reduce((height, width)) { $1.outputSize(height: $0.0, width: $0.1) }
    }

    /// The (height, width) after the deterministic steps, what a cache holds.
    public func preparedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        steps[..<preparedSteps].reduce((height, width)) { $1.outputSize(height: $0.0, width: $0.1) }
    }

    /// The deterministic leading steps.
    public func prepare(_ image: PixelImage) -> PixelImage {
        var rng = RNG(seed: 0)   // not drawn from: these steps are not random
        return steps[..<preparedSteps].reduce(image) { $1.apply($0, rng: &rng) }
    }

    /// The remaining steps with draws from `rng`, then `ToTensor` and `Normalize` into `sample`
    /// (`channels × height × width` floats of the output size).
    public func finish(_ prepared: PixelImage, rng: inout RNG, into sample: UnsafeMutablePointer<Float>) {
        var image = prepared
        for step in steps[preparedSteps...] { image = step.apply(image, rng: &rng) }
        let plane = image.width * image.height, c = image.channels
        image.pixels.withUnsafeBufferPointer { p in
            Self.unit.withUnsafeBufferPointer { unit in
                for ch in 0..<c {
                    let x = sample + ch * plane
                    for i in 0..<plane { x[i] = unit[Int(p[i * c + ch])] }
                }
            }
        }
        normalization?.apply(sample, shape: [c, image.height, image.width])
    }

    /// `byte / 255` in single precision, as `ToTensor` divides (and as the IDX loader stores).
    static let unit: [Float] = (0..<256).map { Float($0) / 255 }
}
