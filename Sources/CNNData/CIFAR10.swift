import CNNCore

/// CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"; the
/// "binary version" at https://www.cs.toronto.edu/~kriz/cifar.html): each file is a sequence of
/// 3,073-byte records — one label byte (0…9), then a 32x32 image as 1,024 red, 1,024 green and
/// 1,024 blue bytes, rows top to bottom. That is already CHW, so samples are `[3, 32, 32]`
/// copied as they are, scaled by 1/255 like torchvision's `ToTensor`.
public enum CIFAR10 {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                    "frog", "horse", "ship", "truck"]
    static let imageBytes = 3 * 32 * 32
    static let recordBytes = 1 + imageBytes

    /// Loads and concatenates the records of `files` (e.g. `data_batch_1.bin` …
    /// `data_batch_5.bin` for training, `test_batch.bin` for testing); `.gz` files are read too.
    public static func load(files: [String], name: String) throws -> LabeledDataset {
        guard !files.isEmpty else {
            throw DataError(file: nil, message: "CIFAR-10 \(name): no files given")
        }
        var values: [Float] = []
        var labels: [Int32] = []
        for file in files {
            // Each byte becomes a float besides itself.
            let bytes = try IDX.readFile(file, limit: SystemMemory.share(5, cap: 1 << 31), what: "CIFAR-10 batch file")
            guard !bytes.isEmpty, bytes.count % recordBytes == 0 else {
                throw DataError(file: file, message: "size \(bytes.count) bytes is not a "
                                + "positive multiple of \(recordBytes) (a CIFAR-10 binary record "
                                + "is 1 label byte + \(imageBytes) image bytes)")
            }
            let records = bytes.count / recordBytes
            let pixels = [UInt8](unsafeUninitializedCapacity: records * imageBytes) { out, n in
                bytes.withUnsafeBufferPointer { src in
                    for r in 0..<records {
                        (out.baseAddress! + r * imageBytes).initialize(
                            from: src.baseAddress! + r * recordBytes + 1, count: imageBytes)
                    }
                }
                n = records * imageBytes
            }
            for r in 0..<records {
                let label = bytes[r * recordBytes]
                guard label < 10 else {
                    throw DataError(file: file, message: "record \(r) (byte offset "
                                    + "\(r * recordBytes)) has label \(label); CIFAR-10 labels "
                                    + "are 0...9")
                }
                labels.append(Int32(label))
            }
            values += IDX.unitFloats(pixels, from: 0, count: pixels.count)
        }
        return LabeledDataset(name: name, sampleShape: [3, 32, 32], values: values,
                              labels: labels, classCount: 10, classNames: classNames)
    }
}
