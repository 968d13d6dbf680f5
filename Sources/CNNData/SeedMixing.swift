/// Hashes several integers into one seed, so every random stream in training is a pure function
/// of its coordinates — `RNG(seed: mixSeed(seed, epoch, index))` — and a run resumed from a
/// checkpoint draws exactly what an uninterrupted run would have drawn.
///
/// Each value is folded in with the SplitMix64 finaliser (Steele, Lea & Flood 2014, "Fast
/// splittable pseudorandom number generators"; the same mixer that seeds `RNG`):
///
///     h₀ = 0x6A09E667F3BCC908,   hₖ = mix(hₖ₋₁ + 0x9E3779B97F4A7C15 ⊕ vₖ)
///     mix(z) = z' ⊕ (z' >> 31),  z' from z by the two xor-shift-multiply rounds of SplitMix64
///
/// `mix` is a bijection on 64-bit words, so for a fixed prefix two different values never give
/// the same hash at that step, and nearby inputs (epoch 3 vs 4) give unrelated outputs. The
/// number of values matters too: `mixSeed(a)` and `mixSeed(a, 0)` differ.
public func mixSeed(_ values: UInt64...) -> UInt64 {
    // Any fixed odd constant works as the start; this one is the first 64 fractional bits of
    // √2 (SHA-512's first initial hash word), chosen only to be visibly not hand-picked.
    var h: UInt64 = 0x6A09_E667_F3BC_C908
    for v in values {
        var z = (h &+ 0x9E37_79B9_7F4A_7C15) ^ v
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        h = z ^ (z >> 31)
    }
    return h
}
