import CNNCore
import CNNLayers

/// The sgemm speed of the BLAS in use, measured on the spot: the ceiling that convolution and
/// recurrent layers lowered to sgemm can approach (cf. the "≥ 50% of sgemm").
public enum SGEMMProbe {
    /// GFLOP/s of the best of `repeats` square `size`³ products (2·size³ flops each) after one
    /// untimed call.
    public static func gflops(size: Int = 1024, repeats: Int = 5) -> Double {
        let a = Tensor(shape: [size, size]), b = Tensor(shape: [size, size]), c = Tensor(shape: [size, size])
        var rng = RNG(seed: 7)
        Initializer.uniform(bound: 1).fill(a, rng: &rng)
        Initializer.uniform(bound: 1).fill(b, rng: &rng)
        var best = Double.infinity
        for i in 0...repeats {
            let start = MonotonicClock.seconds()
            gemm(m: size, n: size, k: size, a: a.data, b: b.data, c: c.data)
            if i > 0 { best = min(best, MonotonicClock.seconds() - start) }
        }
        return 2 * Double(size * size * size) / best / 1e9
    }
}
