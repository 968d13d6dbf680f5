import CNNCore
import CSV

/// A manifest of `path,label` rows (CSV, or TSV for a `.tsv` file; parsed by yaslab's CSV.swift,
/// quoting included) for images that do not live in class folders. Paths are relative to the
/// manifest's folder unless absolute. Labels are class names or indices (`ClassLabels`). A first
/// row whose label field is `label` is a header.
enum ImageList {
    /// The largest manifest read.
    static let maxBytes = 1 << 30

    static func list(manifest: String, classNames given: [String]?) throws
        -> ImageFolder.Listing {
        let table = try LabelTable.rows(manifest, tabs: manifest.lowercased().hasSuffix(".tsv"), labelColumn: 1,
                                        limit: maxBytes, maxRows: ImageFile.maxFiles, what: "image list")
        let base = manifest.contains("/") ? String(manifest[..<manifest.lastIndex(of: "/")!]) : ""
        var paths: [String] = [], labels: [String] = [], rows: [Int] = []
        for (fields, row) in table {
            guard fields.count == 2 else {
                throw DataError(file: "\(manifest):\(row)", message: "has \(fields.count) field(s); "
                                + "each row is path,label")
            }
            let path = fields[0].trimmingWhitespace(), label = fields[1].trimmingWhitespace()
            guard !path.isEmpty, !label.isEmpty else {
                throw DataError(file: "\(manifest):\(row)", message: "has an empty path or label")
            }
            paths.append(DataSource.resolve(path, against: base))
            labels.append(label)
            rows.append(row)
        }
        guard !paths.isEmpty else {
            throw DataError(file: manifest, message: "lists no images; each row is path,label")
        }
        var listing = ImageFolder.Listing()
        listing.files = paths
        listing.places = rows.map { "\(manifest):\($0)" }
        let (indices, names) = try ClassLabels.assign(labels, places: listing.places!, given: given)
        listing.labels = indices
        listing.classNames = names ?? []
        return listing
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(unicodeScalars.drop(while: { $0.properties.isWhitespace })
                .reversed().drop(while: { $0.properties.isWhitespace }).reversed()
                .map(Character.init))
    }
}
