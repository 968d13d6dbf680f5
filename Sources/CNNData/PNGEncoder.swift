import CPNG
import Foundation

/// PNG files written through libpng (the shim's `cnn_png_encode`): grey or RGB images, and
/// palette images of class indices (segmentation masks, as Pascal VOC stores them).
public enum PNGEncoder {
    /// Pascal VOC's colour map (bit-interleaved RGB of the index): class k's colour in masks.
    public static let vocPalette: [[UInt8]] = (0..<256).map { k in
        var (r, g, b) = (0, 0, 0), c = k
        for shift in stride(from: 7, through: 0, by: -1) {
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        }
        return [UInt8(r), UInt8(g), UInt8(b)]
    }

    /// The PNG of `image` (1 or 3 channels).
    public static func encode(_ image: PixelImage) throws -> [UInt8] {
        precondition(image.channels == 1 || image.channels == 3, "PNG of \(image.channels) channels")
        return try encode(image.pixels, width: image.width, height: image.height, channels: image.channels, palette: [])
    }

    /// A palette PNG whose pixels are `indices` (one byte each) and whose colours are VOC's.
    public static func encodeIndices(_ indices: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(indices, width: width, height: height, channels: 1, palette: Array(vocPalette.joined()))
    }

    private static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                               palette: [UInt8]) throws -> [UInt8] {
        precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)x\(height)x\(channels)")
        var sink = cnn_png_sink()
        let status = pixels.withUnsafeBufferPointer { p in
            palette.withUnsafeBufferPointer { c in
                cnn_png_encode(p.baseAddress, UInt32(width), UInt32(height), Int32(channels), c.baseAddress,
                               Int32(palette.count / 3), &sink)
            }
        }
        defer { free(sink.data) }
        guard status == 0 else {
            let message = withUnsafeBytes(of: &sink.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            throw DataError(file: nil, message: status == 3 ? "out of memory writing a PNG image" : "libpng: \(message)")
        }
        return Array(UnsafeBufferPointer(start: sink.data, count: sink.size))
    }
}
