/// `C = A · B` (or `C += A · B`) for a few rows of A against a constant B packed once: the
/// recurrent products of GRU and LSTM, `h₋₁ · W_hhᵀ` and `dG · W_hh`, run every time step on 8 to
/// 64 rows, where sgemm repacks W_hh on every call and runs well below this kernel.
///
/// B (`[K, N]`) is stored as column panels of 48 floats, `packed[panel][k][48]`, zero past N; the
/// register block is 8 rows × 48 columns (24 accumulators of 16 lanes): per k, 3 loads of the
/// panel and 8 broadcasts of A feed 24 FMAs. Where 48 would pad N by more than a sixteenth and
/// 32 divides it, panels are 32 wide (8 × 32, 16 accumulators): `dG · W_hh` with H = 128 computed
/// 144 columns for 128. Where the last panel of 48 would hold 32 columns or fewer it is 32 wide:
/// an LSTM-128 step's `[x, h₋₁] · [W_ih | W_hh]ᵀ` computed 528 columns for 512.
public struct PackedMatrix: Sendable, Equatable {
    public let rows: Int, columns: Int
    /// Columns per panel: 48, or 32 (see above); the last panel's, `panel` or 32.
    public let panel: Int, lastPanel: Int
    static let block = 8

    /// Rows of A from which packing B once pays; below that sgemm's own packing is cheaper (a
    /// GRU-128 at batch 1, packing W_hh every call, ran slower than with sgemm).
    public static let minimumRows = 8

    public init(rows k: Int, columns n: Int) {
        rows = k
        columns = n
        let padding = (48 - n % 48) % 48
        panel = n % 32 == 0 && padding * 16 > n ? 32 : 48
        lastPanel = panel == 48 && padding >= 16 ? 32 : panel
    }

    /// Panels of `panel` columns, then the last.
    public var panels: Int { lastPanel == panel ? (columns + panel - 1) / panel : columns / panel + 1 }
    /// Floats of the packed matrix.
    public var floats: Int { ((panels - 1) * panel + lastPanel) * rows }

    /// Packs `B[k, n] = b[k·ld + n]`, or with `transposed` `B[k, n] = b[n·ld + k]` (for `Wᵀ`), into
    /// rows `k₀ ..< k₀ + count` of the packed matrix (all rows by default): `[W_ih | W_hh]ᵀ` is
    /// packed as two blocks of rows. `panels` (all by default) lets threads share the work.
    public func pack(_ b: UnsafePointer<Float>, ld: Int, transposed: Bool, into packed: UnsafeMutablePointer<Float>,
                     firstRow k0: Int = 0, rowCount: Int? = nil, panels range: Range<Int>? = nil) {
        let count = rowCount ?? rows - k0
        for p in range ?? 0..<panels {
            let width = p == panels - 1 ? lastPanel : panel
            let first = p * panel, used = min(width, columns - first), base = packed + first * rows
            for k in 0..<count {
                let out = base + (k0 + k) * width
                if transposed {
                    let source = b + first * ld + k
                    for c in 0..<used { out[c] = source[c * ld] }
                } else {
                    let source = b + k * ld + first
                    for c in 0..<used { out[c] = source[c] }
                }
                for c in used..<width { out[c] = 0 }
            }
        }
    }

    /// Rows of a left operand: `A[i, k] = base[i·stride + k]` for k < `columns`.
    public struct Operand {
        public let base: UnsafePointer<Float>, stride: Int, columns: Int
        public init(_ base: UnsafePointer<Float>, stride: Int, columns: Int) {
            self.base = base
            self.stride = stride
            self.columns = columns
        }
    }

    /// `C[m, N] = A[m, K] · B` (`accumulate`: `C += A · B`), rows `lda` and `ldc` floats apart.
    public func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        multiply(m: m, Operand(a, stride: lda, columns: rows), packed: packed, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// `C[m, N] = bias + [A₁ A₂] · B` (`accumulate`: `C +=`): A's columns are A₁'s then A₂'s, so an
    /// LSTM step's `[x, h₋₁] · [W_ih | W_hh]ᵀ` needs no copy of x and h₋₁ into one row; `bias`
    /// (`[N]`, nil: zero) starts every row. A block past the last row re-reads that row and
    /// stores nothing.
    public func multiply(m: Int, _ first: Operand, _ second: Operand? = nil, bias: UnsafePointer<Float>? = nil,
                         packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        precondition(first.columns + (second?.columns ?? 0) == rows, "PackedMatrix: A has \(rows) columns")
        // The panels of 48, then those of 32 (all, or the last), each a column block of C.
        let wide = panel == 48 ? (lastPanel == 48 ? columns : (panels - 1) * 48) : 0
        if wide > 0 {
            multiplyWide(m: m, first, second, bias: bias, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                         columns: wide)
        }
        if wide < columns {
            multiplyNarrow(m: m, first, second, bias: bias.map { $0 + wide }, packed: packed + wide * rows, c: c + wide,
                           ldc: ldc, accumulate: accumulate, columns: columns - wide)
        }
    }

    // Each width its own copy of the loops, with `wide` a constant in it (the narrow one's third
    // vector folded away).
    @inline(never)
    private func multiplyWide(m: Int, _ first: Operand, _ second: Operand?, bias: UnsafePointer<Float>?,
                              packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                              columns: Int) {
        multiply(wide: true, m: m, first, second, bias: bias, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                 columns: columns)
    }

    @inline(never)
    private func multiplyNarrow(m: Int, _ first: Operand, _ second: Operand?, bias: UnsafePointer<Float>?,
                                packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                columns: Int) {
        multiply(wide: false, m: m, first, second, bias: bias, packed: packed, c: c, ldc: ldc, accumulate: accumulate,
                 columns: columns)
    }

    /// The product over a block of `columns` columns in panels of 48 (`wide`) or 32.
    @inline(__always)
    private func multiply(wide: Bool, m: Int, _ first: Operand, _ second: Operand?, bias: UnsafePointer<Float>?,
                          packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                          columns n: Int) {
        let (k, width, last) = (rows, wide ? 48 : 32, m - 1)
        for r0 in stride(from: 0, to: m, by: Self.block) {
            for p in 0..<(n + width - 1) / width {
                var s0 = Vector(), s1 = Vector(), s2 = Vector()
                if let bias {
                    let start = bias + p * width, used = min(width, n - p * width)
                    s0 = Self.prefix(start, used); s1 = Self.prefix(start + 16, used - 16)
                    if wide { s2 = Self.prefix(start + 32, used - 32) }
                }
                var c00 = s0, c01 = s1, c02 = s2, c10 = s0, c11 = s1, c12 = s2
                var c20 = s0, c21 = s1, c22 = s2, c30 = s0, c31 = s1, c32 = s2
                var c40 = s0, c41 = s1, c42 = s2, c50 = s0, c51 = s1, c52 = s2
                var c60 = s0, c61 = s1, c62 = s2, c70 = s0, c71 = s1, c72 = s2
                var bp = UnsafeRawPointer(packed + p * k * width)
                for operand in 0..<(second == nil ? 1 : 2) {
                    let o = operand == 0 ? first : second!, a = o.base, lda = o.stride
                    let a0 = a + min(r0, last) * lda, a1 = a + min(r0 + 1, last) * lda
                    let a2 = a + min(r0 + 2, last) * lda, a3 = a + min(r0 + 3, last) * lda
                    let a4 = a + min(r0 + 4, last) * lda, a5 = a + min(r0 + 5, last) * lda
                    let a6 = a + min(r0 + 6, last) * lda, a7 = a + min(r0 + 7, last) * lda
                    for j in 0..<o.columns {
                        let b0 = load(bp), b1 = load(bp, 16), b2 = wide ? load(bp, 32) : Vector()
                        var s = Vector(repeating: a0[j])
                        c00.addProduct(s, b0); c01.addProduct(s, b1); if wide { c02.addProduct(s, b2) }
                        s = Vector(repeating: a1[j])
                        c10.addProduct(s, b0); c11.addProduct(s, b1); if wide { c12.addProduct(s, b2) }
                        s = Vector(repeating: a2[j])
                        c20.addProduct(s, b0); c21.addProduct(s, b1); if wide { c22.addProduct(s, b2) }
                        s = Vector(repeating: a3[j])
                        c30.addProduct(s, b0); c31.addProduct(s, b1); if wide { c32.addProduct(s, b2) }
                        s = Vector(repeating: a4[j])
                        c40.addProduct(s, b0); c41.addProduct(s, b1); if wide { c42.addProduct(s, b2) }
                        s = Vector(repeating: a5[j])
                        c50.addProduct(s, b0); c51.addProduct(s, b1); if wide { c52.addProduct(s, b2) }
                        s = Vector(repeating: a6[j])
                        c60.addProduct(s, b0); c61.addProduct(s, b1); if wide { c62.addProduct(s, b2) }
                        s = Vector(repeating: a7[j])
                        c70.addProduct(s, b0); c71.addProduct(s, b1); if wide { c72.addProduct(s, b2) }
                        bp += 4 * width
                    }
                }
                let columns = min(width, n - p * width)
                /// Row `r` of the block into C, the panel's columns inside N only.
                @inline(__always) func put(_ r: Int, _ v0: Vector, _ v1: Vector, _ v2: Vector) {
                    guard r0 + r < m else { return }
                    let row = c + (r0 + r) * ldc + p * width
                    put(v0, row, columns)
                    if columns > 16 { put(v1, row + 16, columns - 16) }
                    if columns > 32 { put(v2, row + 32, columns - 32) }
                }
                @inline(__always) func put(_ v: Vector, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
                    if count >= 16 {
                        store(accumulate ? v + load(out) : v, out)
                    } else {
                        for i in 0..<count { out[i] = accumulate ? out[i] + v[i] : v[i] }
                    }
                }
                put(0, c00, c01, c02); put(1, c10, c11, c12); put(2, c20, c21, c22); put(3, c30, c31, c32)
                put(4, c40, c41, c42); put(5, c50, c51, c52); put(6, c60, c61, c62); put(7, c70, c71, c72)
            }
        }
    }
    /// The first `count` (clamped to 0…16) floats at `p`, zero after.
    static func prefix(_ p: UnsafePointer<Float>, _ count: Int) -> Vector {
        if count >= 16 { return load(p) }
        var v = Vector()
        for i in 0..<max(count, 0) { v[i] = p[i] }
        return v
    }
}
