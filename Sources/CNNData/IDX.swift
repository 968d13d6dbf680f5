import CNNCore

/// Reads the IDX format of MNIST and Fashion-MNIST (LeCun et al.,
/// http://yann.lecun.com/exdb/mnist/; Xiao et al. 2017): a big-endian header — two zero bytes,
/// a data-type byte (0x08 = unsigned byte), a dimension-count byte, then one UInt32 size per
/// dimension — followed by the raw data. Images are magic 0x00000803 `[count, rows, columns]`,
/// labels 0x00000801 `[count]`. Files may be gzip-compressed (as distributed) or unpacked;
/// `GzipFile` reads both.
///
/// Every malformation is a `DataError` naming the file and what was expected, never a trap:
/// a wrong magic number, a truncated or over-long file, image and label counts that disagree,
/// labels outside the classes.
public enum IDX {
    /// Pixels become `byte / 255` (torchvision's `ToTensor`); samples are `[1, rows, columns]`.
    /// `classCount` is `classNames.count` when names are given (labels must be below it),
    /// otherwise the largest label + 1.
    public static func load(images: String, labels: String, name: String,
                            classNames: [String]?) throws -> LabeledDataset {
        let imageBytes = try readFile(images, rank: 3)
        let imageDims = try dimensions(imageBytes, file: images, rank: 3)
        let labelBytes = try readFile(labels, rank: 1)
        let labelDims = try dimensions(labelBytes, file: labels, rank: 1)
        let (n, rows, columns) = (imageDims[0], imageDims[1], imageDims[2])
        guard labelDims[0] == n else {
            throw DataError(file: labels, message: "has \(labelDims[0]) labels but \(images) "
                            + "has \(n) images; the files must have one label per image")
        }
        guard n > 0, rows > 0, columns > 0 else {
            throw DataError(file: images, message: "holds no pixels: \(n) images of "
                            + "\(rows)x\(columns)")
        }
        let labelValues = labelBytes[(4 + 4 * 1)...].map { Int32($0) }
        let classCount = classNames?.count ?? Int(labelValues.max()! + 1)
        if let bad = labelValues.firstIndex(where: { $0 >= classCount }) {
            throw DataError(file: labels, message: "label \(labelValues[bad]) of sample \(bad) "
                            + "is out of range: \(classCount) class names are given, so labels "
                            + "must be 0...\(classCount - 1)")
        }
        let values = unitFloats(imageBytes, from: 4 + 4 * 3, count: n * rows * columns)
        return LabeledDataset(name: name, sampleShape: [1, rows, columns], values: values,
                              labels: labelValues, classCount: classCount,
                              classNames: classNames, classCountSource: classNames == nil ? labels : nil)
    }

    /// `bytes[offset..<offset + count] / 255` as floats, through a 256-entry table (the exact
    /// quotients, as `ToTensor`'s `div(255)` computes them) in one pass without appends.
    static func unitFloats(_ bytes: [UInt8], from offset: Int, count: Int) -> [Float] {
        var table = [Float](repeating: 0, count: 256)
        for b in 0..<256 { table[b] = Float(b) / 255 }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBufferPointer { src in
                table.withUnsafeBufferPointer { t in
                    let s = src.baseAddress! + offset, o = out.baseAddress!, t = t.baseAddress!
                    for i in 0..<count { o[i] = t[Int(s[i])] }
                }
            }
            initialized = count
        }
    }

    /// The header and the data it declares, read no further than that (and one byte, to see an
    /// over-long file): the data is inflated only once the header's sizes are known and the
    /// memory they need (the bytes and their floats) is available. A malformed header is
    /// returned as read, for `dimensions` to describe.
    static func readFile(_ path: String, rank: Int) throws -> [UInt8] {
        try asDataError {
            let file = try GzipFile(path)
            var bytes = try file.read(upTo: 4 + 4 * rank)
            guard bytes.count == 4 + 4 * rank, bigEndian(bytes, at: 0) == 0x0800 | UInt32(rank) else { return bytes }
            let declared = Shape((0..<rank).map { Int(bigEndian(bytes, at: 4 + 4 * $0)) }).checkedCount ?? Int.max
            try SystemMemory.require(min(declared, Int.max / 5) * 5,
                                     for: "the \(declared) bytes its header declares, as floats", file: path)
            bytes += try file.read(upTo: min(declared, Int.max - 1) + 1)
            return bytes
        }
    }

    /// A whole (decompressed) file of at most `limit` bytes, for formats without a header.
    static func readFile(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        try asDataError { try GzipFile.read(path, limit: limit, what: what) }
    }

    private static func asDataError<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GzipFile.ReadError {
            throw DataError(file: error.path, message: error.message)
        }
    }

    /// The sizes in an IDX header after checking the magic number, the header length and that
    /// the data that follows is exactly as long as the sizes declare.
    static func dimensions(_ bytes: [UInt8], file: String, rank: Int) throws -> [Int] {
        let kind = rank == 3 ? "IDX images (unsigned bytes; dimensions count, rows, columns)"
            : "IDX labels (unsigned bytes; dimension count)"
        let expected = 0x0800 | UInt32(rank)
        guard bytes.count >= 4 else {
            throw DataError(file: file, message: "truncated: \(bytes.count) bytes, shorter than "
                            + "the 4-byte IDX magic number")
        }
        let magic = bigEndian(bytes, at: 0)
        guard magic == expected else {
            let why = magic >> 16 != 0 ? "not an IDX file"
                : bytes[2] != 0x08 ? "data type 0x\(hex(UInt32(bytes[2]), digits: 2))"
                : "\(bytes[3]) dimension(s)"
            throw DataError(file: file, message: "bad magic number 0x\(hex(magic, digits: 8)) "
                            + "(\(why)); expected 0x\(hex(expected, digits: 8)) for \(kind)")
        }
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw DataError(file: file, message: "truncated: \(bytes.count) bytes, shorter than "
                            + "the \(headerLength)-byte header of \(kind)")
        }
        let dims = (0..<rank).map { Int(bigEndian(bytes, at: 4 + 4 * $0)) }
        // Each size is below 2³², so the product of three fits in 96 bits; 64-bit overflow is
        // still possible and means the file cannot match anyway.
        let declared = Shape(dims).checkedCount ?? Int.max
        let actual = bytes.count - headerLength
        let sizes = dims.map(String.init).joined(separator: " × ")
        if actual < declared {
            throw DataError(file: file, message: "truncated: the header declares \(sizes) = "
                            + "\(declared) data bytes, the file has \(actual) after the "
                            + "\(headerLength)-byte header")
        }
        if actual > declared {
            throw DataError(file: file, message: "more bytes than the header declares (\(sizes) = \(declared) "
                            + "data bytes after the \(headerLength)-byte header)")
        }
        return dims
    }

    private static func bigEndian(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8
            | UInt32(bytes[i + 3])
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let s = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
