import CSV
import Foundation

/// Rows as CSV text, a field quoted where it holds a comma, a quote or a line break (RFC 4180),
/// through yaslab's CSV.swift, which reads the image lists too: `predict --format csv` and
/// `eval --predictions` write their tables with it.
public enum CSVText {
    public static func render(_ rows: [[String]]) throws -> String {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row) }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
