import CNNCore
import CPNG

/// PNG through libpng (the shim's `cnn_png_decode`), read as Pillow reads it: palettes
/// expanded, 1/2/4-bit grey scaled to 8 bits, 16-bit samples reduced to their high byte (what
/// Pillow does for 16-bit RGB; for 16-bit grey Pillow clips at 255 instead, which turns most
/// such images white, so here grey follows the RGB rule), no gamma correction, alpha and `tRNS`
/// transparency dropped rather than composited, interlaced images de-interlaced.
enum PNGDecoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Width and height from the IHDR chunk, which the PNG specification requires first.
    static func header(_ start: [UInt8], path: String) throws -> ImageFile.Header {
        guard start.count >= 24, start[12..<16].elementsEqual("IHDR".utf8) else {
            throw DataError(file: path, message: "is a truncated or corrupt PNG image (no IHDR "
                            + "chunk after the signature)")
        }
        func u32(_ at: Int) -> Int { start[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return ImageFile.Header(format: .png, width: u32(16), height: u32(20))
    }

    static func decode(_ bytes: [UInt8], path: String, channels: Int,
                       maxPixels: Int) throws -> PixelImage {
        try decode(bytes, path: path, maxPixels: maxPixels, indices: false) { pixels, width, height, source in
            PixelImage.converting(pixels, width: width, height: height, sourceChannels: source, to: channels)
        }
    }

    /// A segmentation mask: one byte per pixel, a palette image's indices (Pascal VOC's masks)
    /// or an 8-bit grey image's values, never colours.
    static func decodeIndices(_ bytes: [UInt8], path: String, maxPixels: Int) throws -> PixelImage {
        try decode(bytes, path: path, maxPixels: maxPixels, indices: true) { pixels, width, height, _ in
            PixelImage(width: width, height: height, channels: 1, pixels: Array(pixels))
        }
    }

    private static func decode(_ bytes: [UInt8], path: String, maxPixels: Int, indices: Bool,
                               _ make: (UnsafeBufferPointer<UInt8>, Int, Int, Int) -> PixelImage) throws -> PixelImage {
        var image = cnn_png_image()
        let status = bytes.withUnsafeBufferPointer { data -> (Int32, String) in
            var source = cnn_png_source()
            source.data = data.baseAddress
            source.size = data.count
            let status = cnn_png_decode(&source, UInt64(maxPixels), indices ? 1 : 0, &image)
            let message = withUnsafeBytes(of: &source.message) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return (status, message)
        }
        defer { free(image.pixels) }
        switch status.0 {
        case 0: break
        case 2: throw DataError(file: path, message: "declares \(image.width)x\(image.height) "
                                + "pixels, more than the limit of \(maxPixels)")
        case 3: throw DataError(file: path, message: "out of memory decoding the PNG image")
        case 4: throw DataError(file: path, message: "is a PNG of colour type \(image.color_type) with "
                                + "\(image.bit_depth)-bit samples; a mask must be a palette or 8-bit grey PNG "
                                + "of class indices")
        default: throw DataError(file: path, message: "is a truncated or corrupt PNG image "
                                 + "(libpng: \(status.1))")
        }
        let width = Int(image.width), height = Int(image.height)
        return make(UnsafeBufferPointer(start: image.pixels, count: width * height * Int(image.channels)),
                    width, height, Int(image.channels))
    }
}
