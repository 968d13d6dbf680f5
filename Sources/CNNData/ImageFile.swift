import CNNCore

/// Reading one PNG or JPEG file as a `PixelImage`, with every size checked before it is
/// allocated: the dimensions come from the header, read on its own (a PNG's IHDR, a JPEG's
/// frame header found by walking its marker segments), and an image declaring more than
/// `maxPixels` pixels — a decompression bomb — is refused before the file is read whole or a
/// pixel is decoded. Errors are `DataError`s naming the file.
public enum ImageFile {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    public struct Header: Sendable, Equatable {
        public var format: Format
        public var width: Int
        public var height: Int
    }

    /// Pillow's `Image.MAX_IMAGE_PIXELS`, the default decompression-bomb limit.
    public static let defaultMaxPixels = 89_478_485
    /// The largest image file read: far above any photograph, and a bound on one read.
    public static let maxFileBytes = 1 << 30
    /// The most images one dataset may list.
    public static let maxFiles = 100_000_000
    /// File name extensions taken as images (compared lowercased).
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The format and size `path` declares, checked against `maxPixels`.
    public static func header(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> Header {
        try header(of: try BoundedFile(path), maxPixels: maxPixels)
    }

    /// Decodes `path` into `channels` (1 or 3) channels, converted as Pillow's `convert`.
    public static func decode(_ path: String, channels: Int,
                              maxPixels: Int = defaultMaxPixels) throws -> PixelImage {
        let (header, bytes) = try read(path, maxPixels: maxPixels)
        switch header.format {
        case .png: return try PNGDecoder.decode(bytes, path: path, channels: channels,
                                                maxPixels: maxPixels)
        case .jpeg: return try JPEGDecoder.decode(bytes, path: path, channels: channels,
                                                  maxPixels: maxPixels)
        }
    }

    /// A segmentation mask's class indices, one byte per pixel: a palette PNG's indices (as
    /// Pascal VOC stores masks) or an 8-bit grey PNG's values. JPEG is refused: its compression
    /// changes the values.
    public static func decodeMask(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> PixelImage {
        let (header, bytes) = try read(path, maxPixels: maxPixels)
        guard header.format == .png else {
            throw DataError(file: path, message: "is a JPEG image; a mask must be a PNG (JPEG's lossy "
                            + "compression changes class indices)")
        }
        return try PNGDecoder.decodeIndices(bytes, path: path, maxPixels: maxPixels)
    }

    /// The header and the bytes of an image file within the size limits and the memory there is.
    private static func read(_ path: String, maxPixels: Int) throws -> (Header, [UInt8]) {
        let file = try BoundedFile(path)
        let header = try header(of: file, maxPixels: maxPixels)
        guard file.size <= maxFileBytes else {
            throw DataError(file: path, message: "is \(ByteCount(file.size)), more than the "
                            + "\(ByteCount(maxFileBytes)) an image file may have")
        }
        // The decoded samples (at most 4 per pixel while libpng expands them) and the file.
        try SystemMemory.require(file.size + 4 * header.width * header.height,
                                 for: "a \(header.width)x\(header.height) image", file: path)
        return (header, try file.read(at: 0, count: file.size))
    }

    static func header(of file: BoundedFile, maxPixels: Int) throws -> Header {
        let path = file.path
        guard file.size > 0 else {
            throw DataError(file: path, message: "is empty (0 bytes), not a PNG or JPEG image")
        }
        let start = try file.read(at: 0, count: min(file.size, 32))
        let header: Header
        if start.starts(with: PNGDecoder.signature) {
            header = try PNGDecoder.header(start, path: path)
        } else if start.starts(with: [0xFF, 0xD8, 0xFF]) {
            header = try JPEGDecoder.header(of: file)
        } else {
            let shown = start.prefix(8).map { String($0, radix: 16, uppercase: true) }
            throw DataError(file: path, message: "is not a PNG or JPEG image (it starts with bytes "
                            + shown.map { $0.count == 1 ? "0" + $0 : $0 }.joined(separator: " ")
                            + ")")
        }
        guard header.width > 0, header.height > 0 else {
            throw DataError(file: path, message: "declares a \(header.width)x\(header.height) "
                            + "\(header.format.rawValue) image, which has no pixels")
        }
        guard header.width * header.height <= maxPixels else {
            throw DataError(file: path, message: "declares a \(header.width)x\(header.height) "
                            + "\(header.format.rawValue) image, \(header.width * header.height) pixels; "
                            + "more than the limit of \(maxPixels) (a decompression bomb?). Raise the "
                            + "source's \"max_pixels\" to accept it")
        }
        return header
    }
}
