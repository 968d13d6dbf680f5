import CNNCore
import CTurboJPEG

/// JPEG through libjpeg-turbo's TurboJPEG API with the defaults Pillow decodes with (accurate
/// integer IDCT, fancy upsampling), so the RGB samples are the ones `Image.open(f).convert("RGB")`
/// gives. Grey JPEGs decode as grey; CMYK and YCCK (Adobe) JPEGs are refused. A warning from
/// the library (a truncated file, corrupt data) stops the decode and is an error, as Pillow's
/// "image file is truncated" is; progressive files are limited to 500 scans, against files
/// crafted to take minutes to decode.
enum JPEGDecoder {
    /// The frame header's size, found by walking the marker segments from the start of the file
    /// (ITU-T T.81, B.1.1): every marker but RSTn, SOI, EOI and TEM is followed by a 16-bit
    /// big-endian length that counts itself; SOFn (C0–CF but C4 DHT, C8 JPG, CC DAC) carries
    /// precision, height, width.
    static func header(of file: BoundedFile) throws -> ImageFile.Header {
        let path = file.path
        var offset = 2
        while true {
            let bytes = try file.read(at: offset, count: 9)
            guard bytes.count >= 4 else { break }
            guard bytes[0] == 0xFF else {
                throw DataError(file: path, message: "is a corrupt JPEG image (no marker at byte "
                                + "\(offset))")
            }
            let marker = bytes[1]
            if marker == 0xFF { offset += 1; continue }   // fill byte
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }
            if marker == 0xD9 || marker == 0xDA { break }
            let length = Int(bytes[2]) << 8 | Int(bytes[3])
            guard length >= 2 else {
                throw DataError(file: path, message: "is a corrupt JPEG image (a segment of "
                                + "length \(length) at byte \(offset))")
            }
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard bytes.count >= 9 else { break }
                return ImageFile.Header(format: .jpeg, width: Int(bytes[7]) << 8 | Int(bytes[8]),
                                        height: Int(bytes[5]) << 8 | Int(bytes[6]))
            }
            offset += 2 + length
        }
        throw DataError(file: path, message: "is a truncated or corrupt JPEG image (no frame "
                        + "header before the image data)")
    }

    static func decode(_ bytes: [UInt8], path: String, channels: Int,
                       maxPixels: Int) throws -> PixelImage {
        guard let handle = tjInitDecompress() else {
            throw DataError(file: path, message: "cannot start a JPEG decoder (out of memory)")
        }
        defer { tjDestroy(handle) }
        func failure(_ what: String) -> DataError {
            DataError(file: path, message: "is a truncated or corrupt JPEG image (\(what): "
                      + String(cString: tjGetErrorStr2(handle)) + ")")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height,
                                &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw failure("header") }
        guard Int(width) * Int(height) <= maxPixels else {
            throw DataError(file: path, message: "declares \(width)x\(height) pixels, more than "
                            + "the limit of \(maxPixels)")
        }
        let grey = colorspace == Int32(TJCS_GRAY.rawValue)
        guard grey || colorspace == Int32(TJCS_YCbCr.rawValue)
                || colorspace == Int32(TJCS_RGB.rawValue) else {
            throw DataError(file: path, message: "is a CMYK JPEG image, which is not supported; "
                            + "convert it to RGB first")
        }
        let sourceChannels = grey ? 1 : 3
        var samples = [UInt8](repeating: 0, count: Int(width) * Int(height) * sourceChannels)
        let flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
        let status = bytes.withUnsafeBufferPointer { input in
            samples.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, input.baseAddress, UInt(bytes.count), output.baseAddress,
                              width, 0, height, grey ? Int32(TJPF_GRAY.rawValue)
                                : Int32(TJPF_RGB.rawValue), flags)
            }
        }
        guard status == 0 else { throw failure("decoding") }
        return samples.withUnsafeBufferPointer {
            PixelImage.converting($0, width: Int(width), height: Int(height),
                                  sourceChannels: sourceChannels, to: channels)
        }
    }
}
