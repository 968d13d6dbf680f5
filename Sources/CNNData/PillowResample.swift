/// Pillow's antialiased resize (`Image.resize` with `BILINEAR` or `BICUBIC`, libImaging/
/// Resample.c), reproduced operation for operation so that the bytes are the ones Pillow — and
/// so torchvision's `Resize` on PIL images — produces.
///
/// The filter is stretched by the scale factor when shrinking (that is the antialiasing), its
/// weights are normalized per output pixel in double precision, then rounded to fixed point
/// with 22 fractional bits; each pass adds `2²¹` (a half) and clips to 8 bits, and the image is
/// resized in two passes through 8-bit samples, each only when its size changes: horizontally
/// first, unless the height shrinks by more than twice what the width does (Pillow 13's rule,
/// which the reference fixtures pin: the order changes the rounding between the passes).
public enum PillowResample {
    public enum Filter: String, Sendable, CaseIterable {
        case bilinear, bicubic

        var support: Double { self == .bilinear ? 1 : 2 }

        /// The triangle filter, or Keys' cubic convolution with a = −0.5 (Pillow's `BICUBIC`).
        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear:
                return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Per output position: the first input sample, how many follow, and their fixed-point
    /// weights (`precompute_coeffs` + `normalize_coeffs_8bpc`).
    struct Coefficients {
        var first: [Int]
        var count: [Int]
        var weights: [Int32]   // `taps` per output position
        var taps: Int

        init(inputSize: Int, outputSize: Int, filter: Filter) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = max(scale, 1)
            let support = filter.support * filterScale, reciprocal = 1 / filterScale
            taps = Int(support.rounded(.up)) * 2 + 1
            first = [Int](repeating: 0, count: outputSize)
            count = [Int](repeating: 0, count: outputSize)
            weights = [Int32](repeating: 0, count: outputSize * taps)
            var k = [Double](repeating: 0, count: taps)
            let unit = Double(1 << PillowResample.precisionBits)
            for o in 0..<outputSize {
                let center = (Double(o) + 0.5) * scale
                // C's (int) conversion truncates toward zero.
                let lo = max(Int((center - support + 0.5).rounded(.towardZero)), 0)
                let hi = min(Int((center + support + 0.5).rounded(.towardZero)), inputSize)
                let n = hi - lo
                var total = 0.0
                for x in 0..<n {
                    k[x] = filter.weight((Double(x + lo) - center + 0.5) * reciprocal)
                    total += k[x]
                }
                for x in 0..<n {
                    let w = total != 0 ? k[x] / total : k[x]
                    weights[o * taps + x] = Int32((w < 0 ? -0.5 : 0.5) + w * unit)
                }
                first[o] = lo
                count[o] = n
            }
        }
    }

    /// Pillow's `clip8`: the fixed-point sum to a byte, saturating.
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        if sum >= 1 << (precisionBits + 8) { return 255 }
        if sum <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: sum >> precisionBits)
    }

    /// `image` resized to `width` x `height` (both ≥ 1).
    public static func resize(_ image: PixelImage, width: Int, height: Int,
                              filter: Filter) -> PixelImage {
        precondition(width >= 1 && height >= 1, "resize to \(width)x\(height)")
        var result = image
        let shrinkH = image.height - height, shrinkW = image.width - width
        if shrinkH > 0 && shrinkH > 2 * shrinkW {
            result = vertical(result, height: height, filter: filter)
            if width != image.width { result = horizontal(result, width: width, filter: filter) }
        } else {
            if width != image.width { result = horizontal(result, width: width, filter: filter) }
            if height != image.height { result = vertical(result, height: height, filter: filter) }
        }
        return result
    }

    // Both passes accumulate in Int32 with wrapping operations, as Pillow's `int` sums do: a
    // byte times weights whose magnitudes add to under 2 stays below 2³¹ with 22 fraction bits.

    static func horizontal(_ image: PixelImage, width: Int, filter: Filter) -> PixelImage {
        let c = Coefficients(inputSize: image.width, outputSize: width, filter: filter)
        let channels = image.channels, inRow = image.width * channels, outRow = width * channels
        let half = Int32(1 << (precisionBits - 1))
        var out = PixelImage(width: width, height: image.height, channels: channels)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { w in
                    for y in 0..<image.height {
                        let row = src.baseAddress! + y * inRow, line = dst.baseAddress! + y * outRow
                        for o in 0..<width {
                            let k = w.baseAddress! + o * c.taps, n = c.count[o]
                            let first = row + c.first[o] * channels
                            if channels == 3 {
                                var r = half, g = half, b = half
                                for x in 0..<n {
                                    let p = first + 3 * x, weight = k[x]
                                    r = r &+ Int32(p[0]) &* weight
                                    g = g &+ Int32(p[1]) &* weight
                                    b = b &+ Int32(p[2]) &* weight
                                }
                                line[3 * o] = clip8(r); line[3 * o + 1] = clip8(g); line[3 * o + 2] = clip8(b)
                            } else {
                                var sum = half
                                for x in 0..<n { sum = sum &+ Int32(first[x]) &* k[x] }
                                line[o] = clip8(sum)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    static func vertical(_ image: PixelImage, height: Int, filter: Filter) -> PixelImage {
        let c = Coefficients(inputSize: image.height, outputSize: height, filter: filter)
        let row = image.width * image.channels
        let half = Int32(1 << (precisionBits - 1))
        var out = PixelImage(width: image.width, height: height, channels: image.channels)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: row)
        defer { sums.deallocate() }
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { w in
                    for o in 0..<height {
                        let k = w.baseAddress! + o * c.taps, lo = c.first[o], n = c.count[o]
                        sums.update(repeating: half, count: row)
                        for y in 0..<n {
                            let line = src.baseAddress! + (lo + y) * row, weight = k[y]
                            for i in 0..<row { sums[i] = sums[i] &+ Int32(line[i]) &* weight }
                        }
                        let target = dst.baseAddress! + o * row
                        for i in 0..<row { target[i] = clip8(sums[i]) }
                    }
                }
            }
        }
        return out
    }
}
