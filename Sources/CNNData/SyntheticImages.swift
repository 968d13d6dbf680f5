import CNNCore

/// A learnable stand-in for an image dataset, for smoke tests and demos without downloads:
/// class `c` has a prototype `P_c` with pixels uniform in [0, 1), and sample `i` is
///
///     label_i = i mod classes,    x_i = P_{label_i} + noise · ε_i,    ε_i ~ N(0, I)
///
/// so the classes are balanced and separable (a linear classifier reaches the Bayes rate; with
/// noise 0 every sample equals its prototype). Everything is a pure function of the seed:
/// prototypes come from `RNG(seed: mixSeed(seed, 0x9207, c))`, sample `i`'s noise from
/// `RNG(seed: mixSeed(seed, stream, i))`, so sample `i` does not depend on `count`, and
/// sets made with the same seed but different `stream`s (train, validation, test) share the
/// task — the prototypes — but not the samples.
public enum SyntheticImages {
    /// `count` ≥ 1, `classes` ≥ 1, `shape` non-empty with positive sizes (`DataSpec` checks).
    public static func make(count: Int, shape: Shape, classes: Int, seed: UInt64,
                            noise: Float, stream: UInt64 = 0,
                            name: String = "synthetic") -> LabeledDataset {
        precondition(count > 0 && classes > 0 && shape.count > 0,
                     "synthetic data needs samples, classes and pixels")
        let per = shape.count
        var prototypes = [Float](repeating: 0, count: classes * per)
        for c in 0..<classes {
            var rng = RNG(seed: mixSeed(seed, 0x9207, UInt64(c)))
            for k in 0..<per { prototypes[c * per + k] = rng.uniform() }
        }
        let labels = (0..<count).map { Int32($0 % classes) }
        let values = [Float](unsafeUninitializedCapacity: count * per) { out, initialized in
            prototypes.withUnsafeBufferPointer { proto in
                for i in 0..<count {
                    var rng = RNG(seed: mixSeed(seed, stream, UInt64(i)))
                    let p = proto.baseAddress! + Int(labels[i]) * per
                    let x = out.baseAddress! + i * per
                    if noise == 0 {
                        x.initialize(from: p, count: per)
                    } else {
                        for k in 0..<per { (x + k).initialize(to: p[k] + noise * rng.normal()) }
                    }
                }
            }
            initialized = count * per
        }
        return LabeledDataset(name: name, sampleShape: shape, values: values,
                              labels: labels, classCount: classes, classNames: nil)
    }
}
