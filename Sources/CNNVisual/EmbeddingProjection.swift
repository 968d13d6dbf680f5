import CNNData
import Foundation

/// Vectors and their labels as the TensorBoard Embedding Projector loads them (projector.
/// tensorflow.org: "Load" takes a `vectors.tsv` of tab-separated values, a row per point, and a
/// `metadata.tsv` of one label per row, with a header row when it has several columns), and a
/// 2-D PCA scatter of them as SVG, the lectures' "embedding vs PCA" picture.
public enum EmbeddingProjection {
    /// `vectors.tsv`: `count` rows of `dimension` values (`%.6g`, enough for float32's spread).
    public static func vectorsTSV(_ values: [Float], count: Int, dimension: Int) -> String {
        var out = ""
        out.reserveCapacity(count * dimension * 10)
        for i in 0..<count {
            out += (0..<dimension).map { String(format: "%.6g", Double(values[i * dimension + $0])) }
                .joined(separator: "\t") + "\n"
        }
        return out
    }

    /// `metadata.tsv`: a header of `columns`, then a row per point; tabs and line breaks inside a
    /// label become spaces (the format has no quoting).
    public static func metadataTSV(columns: [String], rows: [[String]]) -> String {
        func clean(_ s: String) -> String {
            String(s.map { $0 == "\t" || $0.isNewline ? " " : $0 })
        }
        return ([columns] + rows).map { $0.map(clean).joined(separator: "\t") }.joined(separator: "\n") + "\n"
    }

    /// A scatter of `points` (x, y pairs) coloured by `group` (an index into a palette of ten,
    /// Tableau's), with `labels` written beside the points that have one, the axes named with
    /// their explained variance.
    public static func scatterSVG(points: [Float], groups: [Int], labels: [String?], groupNames: [String],
                                  title: String, axes: (String, String)) -> String {
        let n = points.count / 2, size = 640.0, margin = 48.0, plot = size - 2 * margin
        let xs = (0..<n).map { Double(points[2 * $0]) }, ys = (0..<n).map { Double(points[2 * $0 + 1]) }
        let (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        func px(_ x: Double) -> Double { margin + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * plot }
        func py(_ y: Double) -> Double { size - margin - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * plot }
        let escape = XMLText.escaped
        let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                       "#9c755f", "#bab0ac"]
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(size) + 160)" height="\#(Int(size))" "#
            + #"font-family="sans-serif" font-size="11">"# + "\n"
        svg += #"<rect width="100%" height="100%" fill="white"/>"# + "\n"
        svg += #"<text x="\#(margin)" y="20" font-size="14">\#(escape(title))</text>"# + "\n"
        svg += ##"<rect x="\##(margin)" y="\##(margin)" width="\##(plot)" height="\##(plot)" fill="none" stroke="#999"/>"## + "\n"
        svg += #"<text x="\#(size / 2)" y="\#(size - 14)" text-anchor="middle">\#(escape(axes.0))</text>"# + "\n"
        svg += #"<text x="14" y="\#(size / 2)" text-anchor="middle" transform="rotate(-90 14 \#(size / 2))">"#
            + escape(axes.1) + "</text>\n"
        // Unnamed points first, in grey when there are no groups, then the named ones on top,
        // their names with a white halo so they stay readable over the cloud.
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let grouped = groupNames.count > 1
        for i in 0..<n where labels[i] == nil {
            let color = grouped ? palette[groups[i] % palette.count] : "#b8b8b8"
            svg += #"<circle cx="\#(f(px(xs[i])))" cy="\#(f(py(ys[i])))" r="2.2" fill="\#(color)" fill-opacity="0.6"/>"# + "\n"
        }
        for i in 0..<n {
            guard let label = labels[i] else { continue }
            let color = grouped ? palette[groups[i] % palette.count] : "#c0392b"
            svg += #"<circle cx="\#(f(px(xs[i])))" cy="\#(f(py(ys[i])))" r="3" fill="\#(color)"/>"#
                + #"<text x="\#(f(px(xs[i]) + 4))" y="\#(f(py(ys[i]) - 3))" stroke="white" stroke-width="3" "#
                + #"paint-order="stroke">\#(escape(label))</text>"# + "\n"
        }
        for (k, name) in groupNames.enumerated() where groupNames.count > 1 {
            let y = margin + Double(k) * 16
            svg += #"<circle cx="\#(size + 8)" cy="\#(y)" r="4" fill="\#(palette[k % palette.count])"/>"#
                + #"<text x="\#(size + 16)" y="\#(y + 4)">\#(escape(name))</text>"# + "\n"
        }
        return svg + "</svg>\n"
    }
}
