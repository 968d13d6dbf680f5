/// `metrics.csv`: one row per epoch under the header
///
///     epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,lr,
///     seconds,images_per_second     (one line)
///
/// (RFC 4180 without quoting — no field can hold a comma), and for a segmentation run two more
/// columns, `val_mean_iou,test_mean_iou`. An absent split leaves its cells empty. Numbers are written in Swift's shortest round-trip form (`0.1`, `1e-05`, `nan`), so
/// parsing the file back — as a resumed run does to continue its history — gives every value
/// bit for bit.
public enum MetricsCSV {
    /// Every column, the segmentation ones last.
    public static let segmentationColumns = EpochRecord.CodingKeys.allCases.map(\.rawValue)
    public static let columns = Array(segmentationColumns.dropLast(2))
    public static let header = columns.joined(separator: ",")
    public static let segmentationHeader = segmentationColumns.joined(separator: ",")

    public static func render(_ records: [EpochRecord]) -> String {
        let segmentation = records.contains(where: \.hasMeanIoU)
        var text = (segmentation ? segmentationHeader : header) + "\n"
        for r in records {
            var cells: [String] = [
                String(r.epoch), cell(r.trainLoss), cell(r.trainAccuracy),
                cell(r.valLoss), cell(r.valAccuracy), cell(r.testLoss), cell(r.testAccuracy),
                String(describing: r.lr), cell(r.seconds), cell(r.imagesPerSecond),
            ]
            if segmentation { cells += [cell(r.valMeanIoU), cell(r.testMeanIoU)] }
            text += cells.joined(separator: ",") + "\n"
        }
        return text
    }

    /// The records of a file written by `render`. Empty text (no file yet) is no records; a
    /// different header, a row with the wrong number of fields or a cell that is not a number
    /// is a `CheckpointError` naming `file`, the line and the column.
    public static func parse(_ text: String, file: String? = nil) throws -> [EpochRecord] {
        var records: [EpochRecord] = []
        var sawHeader = false, columns = Self.columns
        // Split on any line break: Swift reads "\r\n" as one Character, so a file saved with
        // Windows line ends parses too.
        for (index, line) in text.split(omittingEmptySubsequences: false,
                                        whereSeparator: \.isNewline).enumerated()
        {
            if line.isEmpty { continue }
            func fail(_ message: String) -> CheckpointError {
                CheckpointError(file: file, message: "line \(index + 1): \(message)")
            }
            guard sawHeader else {
                guard line == header || line == segmentationHeader else {
                    throw fail("expected the header \"\(header)\" (or with \",val_mean_iou,test_mean_iou\")")
                }
                if line == segmentationHeader { columns = segmentationColumns }
                sawHeader = true
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw fail("\(fields.count) fields; the header has \(columns.count)")
            }
            func optional(_ column: Int) throws -> Double? {
                if fields[column].isEmpty { return nil }
                guard let value = Double(fields[column]) else {
                    throw fail("\(columns[column]): \"\(fields[column])\" is not a number")
                }
                return value
            }
            func required(_ column: Int) throws -> Double {
                guard let value = try optional(column) else {
                    throw fail("\(columns[column]) is empty; every row needs it")
                }
                return value
            }
            guard let epoch = Int(fields[0]) else {
                throw fail("epoch: \"\(fields[0])\" is not an integer")
            }
            guard let lr = Float(fields[7]) else {
                throw fail("lr: \"\(fields[7])\" is not a number")
            }
            records.append(EpochRecord(
                epoch: epoch, trainLoss: try required(1), trainAccuracy: try required(2),
                valLoss: try optional(3), valAccuracy: try optional(4),
                testLoss: try optional(5), testAccuracy: try optional(6),
                lr: lr, seconds: try required(8), imagesPerSecond: try required(9),
                valMeanIoU: columns.count > 10 ? try optional(10) : nil,
                testMeanIoU: columns.count > 10 ? try optional(11) : nil))
        }
        return records
    }

    private static func cell(_ value: Double?) -> String {
        value.map { String(describing: $0) } ?? ""
    }
}
