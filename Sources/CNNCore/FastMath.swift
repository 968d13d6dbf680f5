/// Branch-free tanh and sigmoid for loops that must vectorize (recurrent gates, activations),
/// and a fast sum of a vector's lanes:
/// libm's `tanhf`/`expf` are calls, and a loop with a call does not vectorize (the calls took a
/// third of an LSTM's time). `@inlinable`, so that other modules' loops inline and vectorize them.
public enum FastMath {
    /// tanh as Eigen's rational approximation (`ptanh_float`: odd degree-13 over even degree-6
    /// polynomial, input clamped to ±7.9988), within 4e-7 of the exact value and never beyond ±1.
    @inlinable @inline(__always)
    public static func tanh(_ v: Float) -> Float {
        let x = min(max(v, -7.998_811_7), 7.998_811_7), x2 = x * x
        var p: Float = -2.760_768_5e-16
        p = (2.000_187_9e-13 as Float).addingProduct(p, x2)
        p = (-8.604_671_5e-11 as Float).addingProduct(p, x2)
        p = (5.122_297_1e-8 as Float).addingProduct(p, x2)
        p = (1.485_722_4e-5 as Float).addingProduct(p, x2)
        p = (6.372_619_3e-4 as Float).addingProduct(p, x2)
        p = (4.893_524_6e-3 as Float).addingProduct(p, x2)
        var q: Float = 1.198_258_4e-6
        q = (1.185_347_1e-4 as Float).addingProduct(q, x2)
        q = (2.268_434_6e-3 as Float).addingProduct(q, x2)
        q = (4.893_525_2e-3 as Float).addingProduct(q, x2)
        return x * p / q
    }

    /// `σ(v) = (1 + tanh(v/2))/2`, within 2.5e-7 of the exact value; exactly 0 and 1 beyond ±16
    /// (where σ is within 1.2e-7 of them; tanh's clamp makes it exactly ±1 there), so that
    /// `x·σ(x)` saturates exactly too.
    @inlinable @inline(__always)
    public static func sigmoid(_ v: Float) -> Float { 0.5 + 0.5 * tanh(0.5 * v) }

    /// `tanh` on sixteen lanes at once, each lane exactly the scalar `tanh` (the same operations
    /// in the same order), for loops written in vectors (`LSTMCell`).
    @_transparent
    public static func tanh(_ v: SIMD16<Float>) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        let hi = V(repeating: 7.998_811_7), lo = -hi
        let x = v.replacing(with: hi, where: v .> hi).replacing(with: lo, where: v .< lo), x2 = x * x
        var p = V(repeating: -2.760_768_5e-16)
        p = V(repeating: 2.000_187_9e-13).addingProduct(p, x2)
        p = V(repeating: -8.604_671_5e-11).addingProduct(p, x2)
        p = V(repeating: 5.122_297_1e-8).addingProduct(p, x2)
        p = V(repeating: 1.485_722_4e-5).addingProduct(p, x2)
        p = V(repeating: 6.372_619_3e-4).addingProduct(p, x2)
        p = V(repeating: 4.893_524_6e-3).addingProduct(p, x2)
        var q = V(repeating: 1.198_258_4e-6)
        q = V(repeating: 1.185_347_1e-4).addingProduct(q, x2)
        q = V(repeating: 2.268_434_6e-3).addingProduct(q, x2)
        q = V(repeating: 4.893_525_2e-3).addingProduct(q, x2)
        return x * p / q
    }

    /// `sigmoid` on sixteen lanes, each exactly the scalar one.
    @_transparent
    public static func sigmoid(_ v: SIMD16<Float>) -> SIMD16<Float> { 0.5 + 0.5 * tanh(0.5 * v) }

    /// The sixteen lanes of `v` added pairwise, halves first (four vector adds): the standard
    /// library's `sum()` adds them one after another in lane order, sixteen dependent adds in a
    /// call, which was 4% of a ResNet-20 training step in the weight gradients' reductions.
    @inlinable @inline(__always)
    public static func laneSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf, four = eight.lowHalf + eight.highHalf, two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}
