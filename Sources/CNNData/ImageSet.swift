import CNNCore

/// The samples of an image dataset: files decoded on demand into `channels` channels and run
/// through `pipeline` (the training or the evaluation transforms), or taken from a cache of
/// their deterministic part built once (`"cache": "memory"`).
///
/// Immutable once made, so batch-loader threads share it freely.
public final class ImageSet: Sendable {
    public let files: [String]
    /// Each file's (height, width), from its header.
    public let sizes: [ImageSize]
    public let channels: Int
    public let maxPixels: Int
    public let pipeline: ImagePipeline
    /// `pipeline.prepare` of every image, when cached.
    let cache: [PixelImage]?

    public struct ImageSize: Sendable, Equatable {
        public var height: Int32
        public var width: Int32
    }

    public init(files: [String], sizes: [ImageSize], channels: Int, maxPixels: Int,
                pipeline: ImagePipeline, cache: [PixelImage]? = nil) {
        precondition(files.count == sizes.count && (cache == nil || cache!.count == files.count),
                     "\(files.count) files, \(sizes.count) sizes")
        self.files = files
        self.sizes = sizes
        self.channels = channels
        self.maxPixels = maxPixels
        self.pipeline = pipeline
        self.cache = cache
    }

    public var count: Int { files.count }
    public var isCached: Bool { cache != nil }

    /// `[C, H, W]` of every sample, or an error naming two files whose transformed sizes differ
    /// (a pipeline without a fixed-size step over images of several sizes).
    public func sampleShape(name: String) throws -> Shape {
        guard let first = sizes.first else { return [channels, 0, 0] }
        let out = pipeline.outputSize(height: Int(first.height), width: Int(first.width))
        if let k = sizes.firstIndex(where: {
            pipeline.outputSize(height: Int($0.height), width: Int($0.width)) != out
        }) {
            let other = pipeline.outputSize(height: Int(sizes[k].height), width: Int(sizes[k].width))
            throw DataError(file: files[k], message: "becomes a \(other.width)x\(other.height) sample "
                            + "but \(files[0]) a \(out.width)x\(out.height) one; the \(name) transforms "
                            + "must end in one size for every image: add a {\"center_crop\": N} or "
                            + "{\"resize\": [h, w]} step")
        }
        return [channels, out.height, out.width]
    }

    /// The same files through another pipeline (without the cache, which belongs to this one).
    func with(pipeline: ImagePipeline) -> ImageSet {
        ImageSet(files: files, sizes: sizes, channels: channels, maxPixels: maxPixels,
                 pipeline: pipeline)
    }

    /// The images at `indices`, in that order.
    func subset(_ indices: [Int]) -> ImageSet {
        ImageSet(files: indices.map { files[$0] }, sizes: indices.map { sizes[$0] },
                 channels: channels, maxPixels: maxPixels, pipeline: pipeline,
                 cache: cache.map { c in indices.map { c[$0] } })
    }

    public func decode(_ index: Int) throws -> PixelImage {
        let image = try ImageFile.decode(files[index], channels: channels, maxPixels: maxPixels)
        let declared = sizes[index]
        guard image.height == Int(declared.height) && image.width == Int(declared.width) else {
            throw DataError(file: files[index], message: "changed while in use: its header said "
                            + "\(declared.width)x\(declared.height), it decodes to "
                            + "\(image.width)x\(image.height)")
        }
        return image
    }

    /// Writes sample `index` (`sampleShape.count` floats) with the pipeline's random steps
    /// drawing from `rng`.
    func write(_ index: Int, rng: inout RNG, into sample: UnsafeMutablePointer<Float>) throws {
        let prepared = try cache?[index] ?? pipeline.prepare(decode(index))
        pipeline.finish(prepared, rng: &rng, into: sample)
    }

    /// The bytes a cache of this set would take.
    var cacheBytes: Int {
        sizes.reduce(0) {
            let s = pipeline.preparedSize(height: Int($1.height), width: Int($1.width))
            return $0 + s.height * s.width * channels
        }
    }

    /// This set with every image decoded and prepared once, on `threads` threads.
    func cached(threads: Int) throws -> ImageSet {
        let images = try ParallelLoop.results(count: count, threads: threads) { pipeline.prepare(try decode($0)) }
            .map { try $0.get() }
        return ImageSet(files: files, sizes: sizes, channels: channels, maxPixels: maxPixels,
                        pipeline: pipeline, cache: images)
    }

    /// Reads the header of every file in `files` on `threads` threads (and decodes the image
    /// too when `skip`, so that a file kept now cannot fail later): the indices of the readable
    /// files with their sizes, and the failures by file.
    public static func readHeaders(_ files: [String], channels: Int, maxPixels: Int, skip: Bool, threads: Int)
        -> (kept: [Int], sizes: [ImageSize], failed: [(file: String, error: Error)]) {
        let results = ParallelLoop.results(count: files.count, threads: threads) { i in
            let header = try ImageFile.header(files[i], maxPixels: maxPixels)
            if skip { _ = try ImageFile.decode(files[i], channels: channels, maxPixels: maxPixels) }
            return ImageSize(height: Int32(header.height), width: Int32(header.width))
        }
        var kept: [Int] = [], sizes: [ImageSize] = [], failed: [(file: String, error: Error)] = []
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let size): kept.append(i); sizes.append(size)
            case .failure(let error): failed.append((files[i], error))
            }
        }
        return (kept, sizes, failed)
    }

    /// The one line about skipped files: how many, and the first three with their reasons.
    public static func skipNotice(_ failed: [(file: String, error: Error)], of total: Int, in source: String) -> String {
        let shown = failed.prefix(3).map { "\($0.file) (\(reason($0.error)))" }
        return "skipped \(failed.count) unreadable image(s) of \(total) in \(source): " + shown.joined(separator: "; ")
            + (failed.count > 3 ? "; …" : "")
    }

    /// An error's message without the file name the notice already shows.
    static func reason(_ error: Error) -> String {
        (error as? DataError)?.message ?? (error as? FileError)?.message ?? "\(error)"
    }
}
