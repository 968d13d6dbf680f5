import CNNConfig
import CNNCore

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
        let read = ImageSet.readHeaders(listing.files, channels: channels, maxPixels: maxPixels,
                                        skip: onError == .skip, threads: threads)
        let (kept, sizes, failed) = (read.kept, read.sizes, read.failed)
        if let (file, error) = failed.first, onError != .skip {
            // A manifest's file is named with the row that lists it.
            guard let places = listing.places, let k = listing.files.firstIndex(of: file) else { throw error }
            throw DataError(file: file, message: ImageSet.reason(error) + " (listed at \(places[k]))")
        }
        if !failed.isEmpty {
            notices.append("\(role): " + ImageSet.skipNotice(failed, of: listing.files.count, in: source))
        }
        guard !kept.isEmpty else {
            throw DataError(file: source, message: "has no readable images")
        }
        let files = listing.files
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
}
