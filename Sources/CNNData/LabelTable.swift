import CNNCore
import CSV

/// The reading `image_list` manifests and `text_classification` tables share: a UTF-8 file of at
/// most `limit` bytes, CSV (RFC 4180, through yaslab's CSV.swift) or tab-separated, blank rows
/// skipped, and a first row whose label field is `label` taken as a header. Each row comes with
/// its 1-based row number, for errors that name `file:row`.
enum LabelTable {
    static func rows(_ path: String, tabs: Bool, labelColumn: Int, limit: Int, maxRows: Int, what: String) throws
        -> [(fields: [String], row: Int)] {
        let text = try readUTF8(path, limit: limit, what: what)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, delimiter: tabs ? "\t" : ",")
        } catch {
            throw DataError(file: path, message: "cannot be read as \(tabs ? "TSV" : "CSV"): \(error)")
        }
        var rows: [(fields: [String], row: Int)] = [], row = 0
        while let fields = reader.next() {
            row += 1
            if fields.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue }
            if rows.isEmpty && fields.count > labelColumn && fields[labelColumn].trimmingWhitespace().lowercased() == "label" {
                continue
            }
            rows.append((fields, row))
            guard rows.count <= maxRows else { throw DataError(file: path, message: "has more than \(maxRows) rows") }
        }
        if let error = reader.error {
            throw DataError(file: "\(path):\(row + 1)", message: "is not valid \(tabs ? "TSV" : "CSV"): \(error)")
        }
        return rows
    }
}

/// The file at `path` (at most `limit` bytes) as UTF-8 text; a `DataError` naming it otherwise.
public func readUTF8(_ path: String, limit: Int, what: String) throws -> String {
    let bytes = try BoundedFile.readAll(path, limit: limit, what: what)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw DataError(file: path, message: "is not UTF-8 text")
    }
    return text
}
