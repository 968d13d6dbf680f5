import CNNConfig
import CNNCore
import Foundation

/// The image sources of a config's data section:
///
///     {"type": "image_folder", "root": "DIR", "channels"?: 1 | 3, "max_pixels"?: N,
///      "on_error"?: "fail" | "skip"}
///     {"type": "image_list", "file": "list.csv", "class_names"?: [...], (same options)}
///
/// `channels` defaults to the model input's (3 if it has neither 1 nor 3); `max_pixels` to
/// Pillow's 89,478,485. Every file's header is read when the data is loaded; a file that cannot
/// be read is an error naming it, or with `"on_error": "skip"` it is left out, every image
/// then being decoded once at load so that none fails later, and one line says how many were
/// skipped and which.
struct ImageSourceConfig: Decodable {
    enum OnError: String, ConfigEnum { case fail, skip }

    var root: String?
    var file: String?
    var classNames: [String]?
    var channels: Int?
    var maxPixels: Int?
    var onError: OnError?

    enum CodingKeys: String, CodingKey {
        case root, file, classNames = "class_names", channels, maxPixels = "max_pixels",
             onError = "on_error"
    }

    /// Checks the keys of one kind (`image_folder` takes `root`, `image_list` `file`).
    func validate(folder: Bool, path: String, file configFile: String) throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: configFile, place: ConfigDecoder.keyPath(path, key: key), message: message)
        }
        let (needed, other) = folder ? ("root", "file") : ("file", "root")
        if (folder ? root : file) == nil {
            throw ConfigError(file: configFile, place: path, message: "missing required key \"\(needed)\"")
        }
        if (folder ? file : root) != nil {
            throw fail(other, "an \(folder ? "image_folder" : "image_list") source takes \"\(needed)\", "
                       + "not \"\(other)\"")
        }
        if folder && classNames != nil {
            throw fail("class_names", "an image folder's classes are its sub-folder names")
        }
        if let c = channels, c != 1 && c != 3 { throw fail("channels", "must be 1 or 3, got \(c)") }
        if let m = maxPixels, m < 1 { throw fail("max_pixels", "must be at least 1, got \(m)") }
        if classNames?.isEmpty == true { throw fail("class_names", "must not be empty") }
    }

    /// Lists the files, reads every header (decoding every image too when skipping) on
    /// `threads` threads, and returns the dataset, whose pipeline is still the identity, with
    /// lines for the user.
    func load(role: String, baseDirectory: String, defaultChannels: Int,
              threads: Int) throws -> (LabeledDataset, [String]) {
        let listing = if let root {
            try ImageFolder.list(root: DataSource.resolve(root, against: baseDirectory))
        } else {
            try ImageList.list(manifest: DataSource.resolve(file!, against: baseDirectory),
                               classNames: classNames)
        }
        let source = root.map { DataSource.resolve($0, against: baseDirectory) }
            ?? DataSource.resolve(file!, against: baseDirectory)
        var notices: [String] = []
        if listing.ignored > 0 {
            notices.append("\(role): ignored \(listing.ignored) file(s) in \(source) that are not "
                           + ".png, .jpg or .jpeg (e.g. \(listing.ignoredExample!))")
        }
        let channels = channels ?? defaultChannels, maxPixels = maxPixels ?? ImageFile.defaultMaxPixels
        let skip = onError == .skip, files = listing.files
        let results = ResultSlots<ImageSet.ImageSize>(count: files.count)
        ParallelLoop.run(count: files.count, threads: threads) { i in
            results.set(i, Result {
                let header = try ImageFile.header(files[i], maxPixels: maxPixels)
                if skip { _ = try ImageFile.decode(files[i], channels: channels, maxPixels: maxPixels) }
                return ImageSet.ImageSize(height: Int32(header.height), width: Int32(header.width))
            })
        }
        var kept: [Int] = [], sizes: [ImageSet.ImageSize] = [], failed: [(Int, Error)] = []
        for (i, result) in results.values.enumerated() {
            switch result {
            case .success(let size): kept.append(i); sizes.append(size)
            case .failure(let error): failed.append((i, error))
            }
        }
        if let (_, error) = failed.first, !skip { throw error }
        if !failed.isEmpty {
            let shown = failed.prefix(3).map { "\(files[$0.0]) (\(Self.reason($0.1)))" }
            notices.append("\(role): skipped \(failed.count) unreadable image(s) of \(files.count) "
                           + "in \(source): " + shown.joined(separator: "; ")
                           + (failed.count > 3 ? "; …" : ""))
        }
        guard !kept.isEmpty else {
            throw DataError(file: source, message: "has no readable images")
        }
        let labels = kept.map { listing.labels[$0] }
        let classCount = listing.classNames.isEmpty ? Int(labels.max()!) + 1 : listing.classNames.count
        let set = ImageSet(files: kept.map { files[$0] }, sizes: sizes, channels: channels,
                           maxPixels: maxPixels, pipeline: ImagePipeline(steps: [], normalization: nil))
        let dataset = LabeledDataset(
            name: "\(root != nil ? "image folder" : "image list") \(role)",
            sampleShape: [channels, Int(sizes[0].height), Int(sizes[0].width)], values: [],
            labels: labels, classCount: classCount,
            classNames: listing.classNames.isEmpty ? nil : listing.classNames,
            classCountSource: listing.classNames.isEmpty ? source : nil, images: set)
        return (dataset, notices)
    }

    /// An error's message without the file name the notice already shows.
    static func reason(_ error: Error) -> String {
        (error as? DataError)?.message ?? (error as? FileError)?.message ?? "\(error)"
    }
}

/// One result per index, written by parallel loop bodies.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// Safe from any thread: every access holds `lock`.
    func set(_ i: Int, _ result: Result<T, Error>) {
        lock.withLock { slots[i] = result }
    }

    var values: [Result<T, Error>] { lock.withLock { slots.map { $0! } } }
}
