/// A predicted mask drawn over its image for people to look at: background (class 0) pixels
/// show the image in grey, every other class's pixels half the image, half the class's colour
/// in Pascal VOC's colour map (`PNGEncoder.vocPalette`).
public enum SegmentationOverlay {
    /// `image`: `[C, H, W]` values in [0, 1] (1 or 3 channels, as stored before normalization);
    /// `mask`: `H·W` classes. An RGB image.
    public static func render(image: UnsafeBufferPointer<Float>, channels: Int, width: Int, height: Int,
                              mask: [UInt8]) -> PixelImage {
        let area = width * height
        var out = PixelImage(width: width, height: height, channels: 3)
        for i in 0..<area {
            for ch in 0..<3 {
                let v = min(max(image[(channels == 3 ? ch : 0) * area + i], 0), 1) * 255
                let colour = Float(PNGEncoder.vocPalette[Int(mask[i])][ch])
                out.pixels[i * 3 + ch] = UInt8((mask[i] == 0 ? v : (v + colour) / 2).rounded())
            }
        }
        return out
    }
}
