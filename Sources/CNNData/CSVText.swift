import CSV
import Foundation

/// Rows as CSV text, a field quoted where it holds a comma, a quote or a line break (RFC 4180),
/// through yaslab's CSV.swift, which reads the image lists too: `predict --format csv`,
/// `eval --predictions` and `gradients.csv` are written with it, and read back with `rows`.
public enum CSVText {
    public static func render(_ rows: [[String]]) throws -> String {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row) }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The rows of CSV `text`; text that is not CSV is a `DataError` naming `file` and the row.
    public static func rows(_ text: String, file: String) throws -> [[String]] {
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text)
        } catch {
            throw DataError(file: file, message: "cannot be read as CSV: \(error)")
        }
        var rows: [[String]] = []
        while let fields = reader.next() { rows.append(fields) }
        if let error = reader.error {
            throw DataError(file: "\(file):\(rows.count + 1)", message: "is not valid CSV: \(error)")
        }
        return rows
    }
}
