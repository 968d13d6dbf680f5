import CNNConfig
import CNNCore
import Foundation

/// Semantic segmentation data as two folders: images (PNG or JPEG) and their masks (PNG, one
/// class index per pixel), matched by file stem: `images/0001.jpg` ↔ `masks/0001.png`, as Pascal
/// VOC's `JPEGImages` and `SegmentationClass`. A palette mask is read as its indices, not its
/// colours; `ignore_index` (VOC's 255 on object borders) marks pixels no loss or metric counts.
///
///     {"type": "segmentation_folder", "images": "…", "masks": "…",
///      "class_names": ["background", …] | "classes": K, "ignore_index"?: 255, "channels"?: 3,
///      "size"?: [h, w]}
///
/// The samples are decoded once into memory, `[C, H, W]` as `byte / 255`. With `size` each image
/// is resized to it as Pillow's bilinear `resize` does and its mask with nearest neighbours (as
/// torchvision's segmentation references do: interpolated class indices would be other classes);
/// without it every image must have one size. A mask always has its image's size. `augment`'s
/// crops and flips move image and mask together.
public enum SegmentationFolder {
    struct Config: Decodable {
        var images: String
        var masks: String
        var classNames: [String]?
        var classes: Int?
        var ignoreIndex: Int?
        var channels: Int?
        var size: [Int]?

        enum CodingKeys: String, CodingKey {
            case images, masks, classNames = "class_names", classes, ignoreIndex = "ignore_index", channels, size
        }

        var classCount: Int { classNames?.count ?? classes ?? 0 }

        func validate(path: String, file: String) throws {
            func fail(_ key: String, _ message: String) -> ConfigError {
                ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key), message: message)
            }
            switch (classNames, classes) {
            case (nil, nil): throw ConfigError(file: file, place: path, message: "give \"class_names\" or \"classes\"")
            case (_?, _?): throw fail("classes", "give \"class_names\" or \"classes\", not both")
            case (let names?, nil) where names.isEmpty || names.count > 255:
                throw fail("class_names", "must name 1 to 255 classes, got \(names.count)")
            case (nil, let k?) where !(1...255).contains(k): throw fail("classes", "must be in 1...255, got \(k)")
            default: break
            }
            if let i = ignoreIndex, !(0...255).contains(i) || i < classCount {
                throw fail("ignore_index", "must be a mask value in \(classCount)...255 (the classes are 0...\(classCount - 1)), got \(i)")
            }
            if let c = channels, c != 1 && c != 3 { throw fail("channels", "must be 1 or 3, got \(c)") }
            if let s = size, s.count != 2 || !s.allSatisfy({ (1...4096).contains($0) }) {
                throw fail("size", "must be [height, width], 1 to 4096 pixels each, got \(s)")
            }
        }
    }

    /// The mask value no loss or metric counts, unless the config says another.
    static let defaultIgnoreIndex = 255

    static func load(_ c: Config, images: String, masks: String, name: String) throws -> LabeledDataset {
        let files = try imageFiles(in: images)
        let channels = c.channels ?? 3, classes = c.classCount, ignored = c.ignoreIndex ?? defaultIgnoreIndex
        let first = try ImageFile.header(images + "/" + files[0])
        let (height, width) = c.size.map { ($0[0], $0[1]) } ?? (first.height, first.width), plane = height * width
        try SystemMemory.require(files.count * plane * (4 * channels + 4),
                                 for: "\(files.count) images of \(width)x\(height) and their masks", file: images)
        var values = [Float](repeating: 0, count: files.count * channels * plane)
        var labels = [Int32](repeating: 0, count: files.count * plane)
        for (n, fileName) in files.enumerated() {
            let imagePath = images + "/" + fileName
            let stem = fileName.split(separator: ".", omittingEmptySubsequences: false).dropLast().joined(separator: ".")
            let maskPath = masks + "/" + stem + ".png"
            guard FileManager.default.fileExists(atPath: maskPath) else {
                throw DataError(file: maskPath, message: "does not exist: image \(fileName) has no mask (masks are "
                                + "PNG files named by the image's stem)")
            }
            var image = try ImageFile.decode(imagePath, channels: channels)
            var mask = try ImageFile.decodeMask(maskPath)
            guard mask.width == image.width && mask.height == image.height else {
                throw DataError(file: maskPath, message: "is \(mask.width)x\(mask.height), but its image \(fileName) "
                                + "is \(image.width)x\(image.height)")
            }
            if c.size != nil && (image.width != width || image.height != height) {
                image = PillowResample.resize(image, width: width, height: height, filter: .bilinear)
                mask = nearest(mask, width: width, height: height)
            }
            guard image.width == width && image.height == height else {
                throw DataError(file: imagePath, message: "is \(image.width)x\(image.height); the images of a "
                                + "segmentation folder must share one size, \(width)x\(height) as \(files[0]) (or give "
                                + "\"size\": [height, width] to resize them)")
            }
            store(image, into: &values, sample: n)
            for i in 0..<plane {
                let v = Int(mask.pixels[i])
                guard v < classes || v == ignored else {
                    throw DataError(file: maskPath, message: "holds class \(v) at row \(i / width), column \(i % width); "
                                    + "the classes are 0...\(classes - 1) and \(ignored) is ignored")
                }
                labels[n * plane + i] = Int32(v)
            }
        }
        return LabeledDataset(name: name, sampleShape: [channels, height, width], values: values, labels: labels,
                              classCount: classes, classNames: c.classNames, labelsPerSample: plane,
                              mask: MaskLabels(shape: [height, width], ignored: Int32(ignored)))
    }

    /// Image files to segment (`paths`: files, or folders whose images are found as in a class
    /// folder), decoded as the folder's images are: `[C, H, W]` of `shape` as `byte / 255`, every
    /// one that size (else an error naming it), with placeholder masks. Also their paths.
    public static func unlabeled(paths: [String], shape: Shape) throws -> (dataset: LabeledDataset, files: [String]) {
        var files: [String] = []
        for path in paths { files += ImageFolder.isDirectory(path) ? try ImageFolder.images(under: path) : [path] }
        guard !files.isEmpty else { throw DataError(file: paths.first, message: "holds no .png, .jpg or .jpeg image") }
        let (channels, height, width) = (shape[0], shape[1], shape[2]), plane = height * width
        try SystemMemory.require(files.count * channels * plane * 4, for: "\(files.count) images of \(shape)", file: nil)
        var values = [Float](repeating: 0, count: files.count * channels * plane)
        for (n, path) in files.enumerated() {
            let image = try ImageFile.decode(path, channels: channels)
            guard image.width == width && image.height == height else {
                throw DataError(file: path, message: "is \(image.width)x\(image.height); the model segments "
                                + "\(width)x\(height) images")
            }
            store(image, into: &values, sample: n)
        }
        let dataset = LabeledDataset(name: "predict", sampleShape: shape, values: values,
                                     labels: [Int32](repeating: 0, count: files.count * plane), classCount: 1,
                                     classNames: nil, labelsPerSample: plane,
                                     mask: MaskLabels(shape: [height, width], ignored: nil))
        return (dataset, files)
    }

    /// `mask` resized by nearest neighbours as Pillow's `NEAREST` (what torchvision's
    /// `InterpolationMode.NEAREST` runs): output pixel x reads input ⌊(x + ½)·w_in/w_out⌋.
    static func nearest(_ mask: PixelImage, width: Int, height: Int) -> PixelImage {
        var out = PixelImage(width: width, height: height, channels: 1)
        for y in 0..<height {
            let sy = min(mask.height - 1, Int((Double(y) + 0.5) * Double(mask.height) / Double(height)))
            for x in 0..<width {
                let sx = min(mask.width - 1, Int((Double(x) + 0.5) * Double(mask.width) / Double(width)))
                out.pixels[y * width + x] = mask.pixels[sy * mask.width + sx]
            }
        }
        return out
    }

    /// Writes `image` as sample `sample` of `[N, C, H, W]` values, `byte / 255` (torchvision's
    /// `ToTensor`), channels planar.
    private static func store(_ image: PixelImage, into values: inout [Float], sample: Int) {
        let (channels, plane) = (image.channels, image.width * image.height), base = sample * channels * plane
        for i in 0..<plane {
            for ch in 0..<channels { values[base + ch * plane + i] = Float(image.pixels[i * channels + ch]) / 255 }
        }
    }

    /// The PNG and JPEG files of `directory`, sorted by name (byte order).
    private static func imageFiles(in directory: String) throws -> [String] {
        guard ImageFolder.isDirectory(directory) else {
            throw DataError(file: directory, message: FileManager.default.fileExists(atPath: directory)
                            ? "is not a folder of images" : "does not exist")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DataError(file: directory, message: "cannot be listed: \(error.localizedDescription)")
        }
        let images = names.filter { ImageFile.extensions.contains(($0.split(separator: ".").last ?? "").lowercased()) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !images.isEmpty else {
            throw DataError(file: directory, message: "holds no .png, .jpg or .jpeg image")
        }
        guard images.count <= ImageFile.maxFiles else {
            throw DataError(file: directory, message: "holds \(images.count) images, more than \(ImageFile.maxFiles)")
        }
        return images
    }
}
