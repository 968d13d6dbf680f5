/// An 8-bit image as Pillow holds one in memory: `height` rows of `width` pixels of `channels`
/// interleaved samples (1: mode "L", 3: mode "RGB"). Decoders produce it, the PIL-domain
/// transforms (resize, crops, flips, colour jitter) work on it, and `ToTensor` turns it into a
/// `[C, H, W]` float sample at the end of the pipeline.
public struct PixelImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels,
                     "\(pixels.count) samples for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int, channels: Int) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: 0, count: width * height * channels))
    }

    /// Pillow's luma for `convert("L")` (ITU-R 601-2, in 16-bit fixed point, rounded):
    /// L = (R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16 (libImaging/Convert.c, `L24`).
    @inline(__always)
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int(r) * 19595 + Int(g) * 38470 + Int(b) * 7471 + 0x8000) >> 16)
    }

    /// Interleaved samples with `sourceChannels` per pixel (1 grey, 2 grey + alpha, 3 RGB,
    /// 4 RGBA) converted to `channels` (1 or 3) the way Pillow's `convert("L")` and
    /// `convert("RGB")` do: alpha dropped (not composited), grey replicated, colour to luma.
    static func converting(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                           sourceChannels: Int, to channels: Int) -> PixelImage {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3, got \(channels)")
        let count = width * height, s = sourceChannels
        let pixels = [UInt8](unsafeUninitializedCapacity: count * channels) { out, made in
            let src = source.baseAddress!
            switch (s, channels) {
            case (1, 1), (3, 3):
                out.baseAddress!.update(from: src, count: count * channels)
            case (1, 3), (2, 3):
                for i in 0..<count {
                    let v = src[i * s]
                    out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
                }
            case (2, 1):
                for i in 0..<count { out[i] = src[2 * i] }
            case (3, 1), (4, 1):
                for i in 0..<count { out[i] = luma(src[i * s], src[i * s + 1], src[i * s + 2]) }
            case (4, 3):
                for i in 0..<count {
                    out[3 * i] = src[4 * i]; out[3 * i + 1] = src[4 * i + 1]; out[3 * i + 2] = src[4 * i + 2]
                }
            default:
                preconditionFailure("no conversion from \(s) to \(channels) channels")
            }
            made = count * channels
        }
        return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
