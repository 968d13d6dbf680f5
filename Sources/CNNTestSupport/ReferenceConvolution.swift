import CNNCore

/// A 2-D convolution (cross-correlation, as in PyTorch and Caffe) computed straight from its
/// definition in Double: the slow, obviously correct answer the layer's and the kernels' fast
/// paths (im2col + sgemm, direct, Winograd, AVX-512) are compared with. Shares no code with them;
/// padding modes go through `referenceSource`, not `PaddingMode.sourceIndex`.
///
/// Input `[N, C, H, W]`, dense weight `[F, C/groups, kh, kw]` (filter f of group `f / (F/groups)`
/// reads maps `g·C/groups ..< (g+1)·C/groups`), output `[N, F, OH, OW]`:
///
///     y[n, f, oh, ow] = b[f] + Σ_{c, i, j} w(f, c, i, j) · x[n, c, src(oh·sh − pt + i·dh, H),
///                                                             src(ow·sw − pl + j·dw, W)]
///
/// where `src` maps a padded index to the pixel it reads, and taps that read zero padding are left
/// out of the sum.
public struct ReferenceConvolution {
    public var channels: Int, height: Int, width: Int, filters: Int
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    public var padding: (top: Int, bottom: Int, left: Int, right: Int)
    public var dilation: (h: Int, w: Int)
    public var groups: Int
    public var mode: PaddingMode

    public init(channels: Int, height: Int, width: Int, filters: Int, kernel: (h: Int, w: Int),
                stride: (h: Int, w: Int) = (1, 1),
                padding: (top: Int, bottom: Int, left: Int, right: Int) = (0, 0, 0, 0),
                dilation: (h: Int, w: Int) = (1, 1), groups: Int = 1, mode: PaddingMode = .zeros) {
        precondition(channels % groups == 0 && filters % groups == 0, "groups must divide C and F")
        (self.channels, self.height, self.width, self.filters) = (channels, height, width, filters)
        (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
        (self.groups, self.mode) = (groups, mode)
    }

    public var outHeight: Int {
        (height + padding.top + padding.bottom - dilation.h * (kernel.h - 1) - 1) / stride.h + 1
    }
    public var outWidth: Int {
        (width + padding.left + padding.right - dilation.w * (kernel.w - 1) - 1) / stride.w + 1
    }

    /// The output for a weight given tap by tap: `weight(f, c, i, j)` (asked once per tap) is nil
    /// where filter f does not read map c, which also expresses connection tables (LeNet-5's C3)
    /// and compact weight layouts.
    public func forward(_ x: Tensor, bias: Tensor?, weight: (Int, Int, Int, Int) -> Float?) -> [Double] {
        let images = batch(x, channels * height * width)
        var y = [Double](repeating: 0, count: images * filters * outHeight * outWidth)
        if let bias {
            for o in y.indices { y[o] = Double(bias.data[o / (outHeight * outWidth) % filters]) }
        }
        let (taps, xs) = (tabulate(weight), x.data)
        forEachTap(images: images) { o, xi, t in
            if let w = taps[t] { y[o] += Double(w) * Double(xs[xi]) }
        }
        return y
    }

    /// The output for a dense grouped weight `[F, C/groups, kh, kw]`.
    public func forward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> [Double] {
        forward(x, bias: bias) { denseIndex($0, $1, $2, $3).map { weight.data[$0] } }
    }

    /// ∂L/∂x for the output gradient `dy` and a dense weight: every tap adds `w · dy` to the input
    /// element it read (edge pixels collect several taps under replicate, reflect, symmetric and
    /// circular padding). Also the definition of a transposed convolution of `dy`.
    public func inputGradient(_ dy: Tensor, weight: Tensor) -> [Double] {
        let images = batch(dy, filters * outHeight * outWidth)
        var dx = [Double](repeating: 0, count: images * channels * height * width)
        let (dense, ws, dys) = (tabulate(denseIndex), weight.data, dy.data)
        forEachTap(images: images) { o, xi, t in
            if let k = dense[t] { dx[xi] += Double(ws[k]) * Double(dys[o]) }
        }
        return dx
    }

    /// ∂L/∂w, laid out like the dense weight, for input `x` and output gradient `dy`.
    public func weightGradient(_ x: Tensor, _ dy: Tensor) -> [Double] {
        let images = batch(x, channels * height * width)
        precondition(dy.count == images * filters * outHeight * outWidth, "dy is not the output's size")
        var dw = [Double](repeating: 0, count: filters * channels / groups * kernel.h * kernel.w)
        let (dense, xs, dys) = (tabulate(denseIndex), x.data, dy.data)
        forEachTap(images: images) { o, xi, t in
            if let k = dense[t] { dw[k] += Double(dys[o]) * Double(xs[xi]) }
        }
        return dw
    }

    /// The number of images in `t`, whose images hold `size` elements each.
    private func batch(_ t: Tensor, _ size: Int) -> Int {
        precondition(t.count % size == 0, "\(t.shape) is not a batch of \(size)-element images")
        return t.count / size
    }

    /// Where tap (i, j) from map c of filter f lies in the dense weight, or nil when f's group does
    /// not read map c.
    private func denseIndex(_ f: Int, _ c: Int, _ i: Int, _ j: Int) -> Int? {
        let (perGroupIn, perGroupOut) = (channels / groups, filters / groups)
        guard c / perGroupIn == f / perGroupOut else { return nil }
        return ((f * perGroupIn + c % perGroupIn) * kernel.h + i) * kernel.w + j
    }

    /// `value(f, c, i, j)` for every tap, at the tap's index in `[F, C, kh, kw]`: what `forEachTap`
    /// passes, so that its bodies look up instead of calling per tap.
    private func tabulate<T>(_ value: (Int, Int, Int, Int) -> T) -> [T] {
        let (kh, kw) = kernel
        return (0..<filters * channels * kh * kw).map {
            value($0 / (channels * kh * kw), $0 / (kh * kw) % channels, $0 / kw % kh, $0 % kw)
        }
    }

    /// Calls `body(output, input, tap)` for every tap of every output element, in the definition's
    /// loop order: the flat indices of the output element, of the input element the tap reads, and
    /// of the tap (f, c, i, j) in `[F, C, kh, kw]`. Taps that read zero padding are skipped. The one
    /// place the geometry is spelled out; it and the bodies work from tables and local copies
    /// because these loops run unoptimized in test builds (WinogradTests took 2.6 s of CPU instead
    /// of 1.8 with calls and property reads per tap).
    private func forEachTap(images: Int, _ body: (_ output: Int, _ input: Int, _ tap: Int) -> Void) {
        let (C, H, W, kh, kw) = (channels, height, width, kernel.h, kernel.w)
        // Tap row i at output row oh reads pixel row rows[oh·kh + i]; likewise the columns.
        let rows = (0..<outHeight * kh).map {
            referenceSource(mode, $0 / kh * stride.h - padding.top + $0 % kh * dilation.h, length: H)
        }
        let columns = (0..<outWidth * kw).map {
            referenceSource(mode, $0 / kw * stride.w - padding.left + $0 % kw * dilation.w, length: W)
        }
        var o = 0
        for n in 0..<images { for f in 0..<filters { for oh in 0..<outHeight { for ow in 0..<outWidth {
            for c in 0..<C { for i in 0..<kh { for j in 0..<kw {
                let (h, w) = (rows[oh * kh + i], columns[ow * kw + j])
                if h < 0 || w < 0 { continue }
                body(o, ((n * C + c) * H + h) * W + w, ((f * C + c) * kh + i) * kw + j)
            }}}
            o += 1
        }}}}
    }
}

/// A slow, obviously correct padding rule: walk an out-of-range index back into the row by
/// repeated mirroring (reflect, symmetric) or wrapping (circular), one step at a time; −1 for a
/// zero. Independent of `PaddingMode.sourceIndex`, so the padding and im2col tests and
/// `ReferenceConvolution` never compare the tables against themselves.
public func referenceSource(_ mode: PaddingMode, _ index: Int, length n: Int) -> Int {
    var i = index
    switch mode {
    case .zeros:
        return i >= 0 && i < n ? i : -1
    case .replicate:
        return min(max(i, 0), n - 1)
    case .circular:
        while i < 0 { i += n }
        while i >= n { i -= n }
        return i
    case .reflect:
        if n == 1 { return 0 }
        while i < 0 || i >= n {
            if i < 0 { i = -i }                  // mirror about pixel 0 (not repeated)
            if i >= n { i = 2 * (n - 1) - i }    // mirror about pixel n − 1
        }
        return i
    case .symmetric:
        while i < 0 || i >= n {
            if i < 0 { i = -1 - i }              // mirror about the edge between −1 and 0
            if i >= n { i = 2 * n - 1 - i }      // mirror about the edge between n − 1 and n
        }
        return i
    }
}
