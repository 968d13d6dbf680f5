/// The PIL operations the transforms are made of, each as Pillow computes it: crops and pads
/// copy samples, flips mirror rows, and `blend` is `Image.blend` (libImaging/Blend.c), on which
/// `ImageEnhance` builds brightness, contrast and saturation.
extension PixelImage {
    /// The `height` x `width` window at (`top`, `left`), zero (black) where it leaves the image,
    /// as `Image.crop` does.
    func cropped(top: Int, left: Int, height: Int, width: Int) -> PixelImage {
        var out = PixelImage(width: width, height: height, channels: channels)
        let c = channels
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                let x0 = max(left, 0), x1 = min(left + width, self.width)
                guard x1 > x0 else { return }
                for r in 0..<height {
                    let y = top + r
                    guard y >= 0 && y < self.height else { continue }
                    (dst.baseAddress! + (r * width + x0 - left) * c)
                        .update(from: src.baseAddress! + (y * self.width + x0) * c, count: (x1 - x0) * c)
                }
            }
        }
        return out
    }

    /// Mirrored left to right (`Image.transpose(FLIP_LEFT_RIGHT)`).
    func flippedHorizontally() -> PixelImage {
        var out = self
        let c = channels
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for x in 0..<width {
                        for ch in 0..<c {
                            dst[(y * width + x) * c + ch] = src[(y * width + width - 1 - x) * c + ch]
                        }
                    }
                }
            }
        }
        return out
    }

    /// `Image.blend(degenerate, self, factor)`: `d + α·(s − d)` in single precision (Pillow takes
    /// α as a C float), truncated toward zero and clipped to 0…255. `degenerate(i)` is the
    /// degenerate image's sample `i`.
    func blended(from degenerate: (Int) -> UInt8, factor: Double) -> PixelImage {
        var out = self
        let alpha = Float(factor)
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let d = Int(degenerate(i))
                let v = Float(d) + alpha * Float(Int(p[i]) - d)
                p[i] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
            }
        }
        return out
    }

    /// `ImageEnhance.Brightness(self).enhance(factor)`: blended with black.
    func brightnessAdjusted(_ factor: Double) -> PixelImage {
        blended(from: { _ in 0 }, factor: factor)
    }

    /// `ImageEnhance.Contrast(self).enhance(factor)`: blended with a grey image of the mean luma,
    /// `int(mean + 0.5)`.
    func contrastAdjusted(_ factor: Double) -> PixelImage {
        var histogram = [Int](repeating: 0, count: 256)
        lumaPlane().forEach { histogram[Int($0)] += 1 }
        let sum = histogram.enumerated().reduce(0) { $0 + $1.offset * $1.element }
        let mean = UInt8(Int(Double(sum) / Double(width * height) + 0.5))
        return blended(from: { _ in mean }, factor: factor)
    }

    /// `ImageEnhance.Color(self).enhance(factor)`: blended with its own greyscale
    /// (`convert("L").convert("RGB")`); a grey image is unchanged.
    func saturationAdjusted(_ factor: Double) -> PixelImage {
        guard channels == 3 else { return self }
        let luma = lumaPlane()
        return blended(from: { luma[$0 / 3] }, factor: factor)
    }

    /// The `convert("L")` samples.
    func lumaPlane() -> [UInt8] {
        guard channels == 3 else { return pixels }
        return (0..<width * height).map {
            PixelImage.luma(pixels[3 * $0], pixels[3 * $0 + 1], pixels[3 * $0 + 2])
        }
    }
}
