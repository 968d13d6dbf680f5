import CNNCore
import CSV

/// A manifest of `path,label` rows (CSV, or TSV for a `.tsv` file; parsed by yaslab's CSV.swift,
/// quoting included) for images that do not live in class folders. Paths are relative to the
/// manifest's folder unless absolute. Labels are class names or indices: with `classNames`
/// given, either spelling of those classes; without, integers are indices (the class count is
/// the largest + 1) and anything else makes every label a name, the classes being the sorted
/// distinct names. A first row whose label field is `label` is a header.
enum ImageList {
    /// The largest manifest read.
    static let maxBytes = 1 << 30
    /// The largest class index a manifest may give (a head of a million classes).
    static let maxClassIndex = 999_999

    static func list(manifest: String, classNames given: [String]?) throws
        -> ImageFolder.Listing {
        let bytes = try BoundedFile.readAll(manifest, limit: maxBytes, what: "image list")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataError(file: manifest, message: "is not UTF-8 text")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, delimiter: manifest.lowercased().hasSuffix(".tsv") ? "\t" : ",")
        } catch {
            throw DataError(file: manifest, message: "cannot be read as CSV: \(error)")
        }
        let base = manifest.contains("/") ? String(manifest[..<manifest.lastIndex(of: "/")!]) : ""
        var paths: [String] = [], labels: [String] = [], rows: [Int] = []
        var row = 0
        while let fields = reader.next() {
            row += 1
            if fields.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue }
            guard fields.count == 2 else {
                throw DataError(file: "\(manifest):\(row)", message: "has \(fields.count) field(s); "
                                + "each row is path,label")
            }
            let path = fields[0].trimmingWhitespace(), label = fields[1].trimmingWhitespace()
            if paths.isEmpty && label.lowercased() == "label" { continue }
            guard !path.isEmpty, !label.isEmpty else {
                throw DataError(file: "\(manifest):\(row)", message: "has an empty path or label")
            }
            paths.append(DataSource.resolve(path, against: base))
            labels.append(label)
            rows.append(row)
            guard paths.count <= ImageFile.maxFiles else {
                throw DataError(file: manifest, message: "lists more than \(ImageFile.maxFiles) images")
            }
        }
        if let error = reader.error {
            throw DataError(file: "\(manifest):\(row + 1)", message: "is not valid CSV: \(error)")
        }
        guard !paths.isEmpty else {
            throw DataError(file: manifest, message: "lists no images; each row is path,label")
        }
        var listing = ImageFolder.Listing()
        listing.files = paths
        listing.places = rows.map { "\(manifest):\($0)" }
        let indices = labels.map { Int($0) }
        if let names = given {
            let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            for (k, label) in labels.enumerated() {
                guard let i = index[label] ?? indices[k].flatMap({ (0..<names.count).contains($0) ? $0 : nil })
                else {
                    throw DataError(file: "\(manifest):\(rows[k])", message: "label \"\(label)\" is "
                                    + "neither a class name nor an index 0...\(names.count - 1)")
                }
                listing.labels.append(Int32(i))
            }
            listing.classNames = names
        } else if indices.allSatisfy({ $0 != nil }) {
            if let k = indices.firstIndex(where: { !(0...maxClassIndex).contains($0!) }) {
                throw DataError(file: "\(manifest):\(rows[k])", message: "label \(labels[k]) is not "
                                + "a class index 0...\(maxClassIndex)")
            }
            listing.labels = indices.map { Int32($0!) }
        } else {
            let names = Set(labels).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
            listing.labels = labels.map { index[$0]! }
            listing.classNames = names
        }
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
