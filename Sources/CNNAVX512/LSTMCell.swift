import CNNCore

/// The elementwise passes of an LSTM step without peepholes, sixteen units per vector: every
/// gate, c, tanh c and h of a unit come out of one pass over registers, where the portable loops
/// make six passes of eight lanes (each reloading its operands and the tanh's constants).
/// H must be a multiple of 16; gates are `[i, f, g, o]` blocks of H per row, as `LSTM`'s.
public enum LSTMCell {
    /// Whether H units suit the kernels.
    public static func supports(hidden: Int) -> Bool { hidden % 16 == 0 }

    /// Forward over `rows` rows: the pre-activations in `gates` become `σ(i), σ(f), tanh(g), σ(o)`;
    /// `c = f ⊙ c₋₁ + i ⊙ g`, `tanh c` and `h = o ⊙ tanh c` are written (rows of h `hStride` apart).
    public static func forward(rows: Int, hidden: Int, gates: UnsafeMutablePointer<Float>,
                               cPrev: UnsafePointer<Float>, cell: UnsafeMutablePointer<Float>,
                               tanhCell: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, hStride: Int) {
        let g4 = 4 * hidden
        for b in 0..<rows {
            let gi = gates + b * g4, gf = gi + hidden, gg = gf + hidden, go = gg + hidden
            let cp = cPrev + b * hidden, c = cell + b * hidden, tc = tanhCell + b * hidden, hb = h + b * hStride
            for j in stride(from: 0, to: hidden, by: 16) {
                let i = FastMath.sigmoid(load(gi, j)), f = FastMath.sigmoid(load(gf, j))
                let g = FastMath.tanh(load(gg, j)), o = FastMath.sigmoid(load(go, j))
                let cv = f * load(cp, j) + i * g, th = FastMath.tanh(cv)
                store(i, gi + j); store(f, gf + j); store(g, gg + j); store(o, go + j)
                store(cv, c + j); store(th, tc + j); store(o * th, hb + j)
            }
        }
    }

    /// Backward over `rows` rows from the forward's activated gates: with `dh = dy + dhCarry`,
    /// `do = dh ⊙ tanh c ⊙ σ'`, `dc = dcCarry + dh ⊙ o ⊙ (1 − tanh² c)`, then `di = dc ⊙ g ⊙ σ'`,
    /// `df = dc ⊙ c₋₁ ⊙ σ'`, `dg = dc ⊙ i ⊙ (1 − g²)` into `dGates`, `dcCarry = dc ⊙ f` (dc₋₁), and
    /// the gate gradients added into `gateSums` (`[4H]`, the biases' gradients). `dGates` may be
    /// `gates`: each vector's gates are loaded before its gradients are stored.
    public static func backward(rows: Int, hidden: Int, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                tanhCell: UnsafePointer<Float>, dy: UnsafePointer<Float>, dyStride: Int,
                                dhCarry: UnsafePointer<Float>, dcCarry: UnsafeMutablePointer<Float>,
                                dGates: UnsafeMutablePointer<Float>, gateSums: UnsafeMutablePointer<Float>) {
        let g4 = 4 * hidden, one = Vector(repeating: 1)
        let si = gateSums, sf = si + hidden, sg = sf + hidden, so = sg + hidden
        for b in 0..<rows {
            let gi = gates + b * g4, gf = gi + hidden, gg = gf + hidden, go = gg + hidden
            let di = dGates + b * g4, df = di + hidden, dg = df + hidden, dO = dg + hidden
            let cp = cPrev + b * hidden, tc = tanhCell + b * hidden, o = dy + b * dyStride
            let dhc = dhCarry + b * hidden, dcc = dcCarry + b * hidden
            for j in stride(from: 0, to: hidden, by: 16) {
                let i = load(gi, j), f = load(gf, j), g = load(gg, j), ov = load(go, j), th = load(tc, j)
                let dh = load(o, j) + load(dhc, j)
                let dc = load(dcc, j) + dh * ov * (one - th * th)
                let vo = dh * th * ov * (one - ov), vi = dc * g * i * (one - i)
                let vf = dc * load(cp, j) * f * (one - f), vg = dc * i * (one - g * g)
                store(vi, di + j); store(vf, df + j); store(vg, dg + j); store(vo, dO + j)
                store(dc * f, dcc + j)
                store(load(si, j) + vi, si + j); store(load(sf, j) + vf, sf + j)
                store(load(sg, j) + vg, sg + j); store(load(so, j) + vo, so + j)
            }
        }
    }
}
