import CNNData
import Foundation

/// `gradients.svg`: the gradient norm of every weight tensor (convolution and dense kernels, role
/// `weight`), from the input side to the output side, on a log scale, one line per logged epoch
/// (or step), light to dark in time: a vanishing gradient is a line that falls towards the input.
enum GradientSVG {
    static func render(_ rows: [GradientRow], title: String) -> String {
        let kernels = rows.filter { $0.role == "weight" && $0.gradientNorm > 0 }
        let width = 720.0, height = 420.0, left = 80.0, right = 150.0, top = 56.0, bottom = 60.0
        let plotW = width - left - right, plotH = height - top - bottom
        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15" font-weight="bold">\
            \(XMLText.escaped(title))</text>

            """
        let names = orderedNames(kernels)
        let logs = kernels.map { log10($0.gradientNorm) }
        guard names.count >= 1, let lo = logs.min(), let hi = logs.max() else {
            return svg + #"<text x="\#(width / 2)" y="\#(height / 2)" text-anchor="middle">no weight gradients logged</text></svg>"#
                + "\n"
        }
        let yLow = (lo - 0.1).rounded(.down), yHigh = max((hi + 0.1).rounded(.up), yLow + 1)
        func x(_ k: Int) -> Double { left + (names.count > 1 ? Double(k) / Double(names.count - 1) : 0.5) * plotW }
        func y(_ v: Double) -> Double { top + (yHigh - v) / (yHigh - yLow) * plotH }
        svg += #"<rect x="\#(left)" y="\#(top)" width="\#(plotW)" height="\#(plotH)" fill="none" stroke="gray"/>"# + "\n"
        for e in stride(from: Int(yLow), through: Int(yHigh), by: 1) {
            let yy = y(Double(e))
            svg += #"<line x1="\#(left)" x2="\#(left + plotW)" y1="\#(yy)" y2="\#(yy)" stroke="gainsboro"/>"#
                + #"<text x="\#(left - 6)" y="\#(yy + 4)" text-anchor="end">1e\#(e)</text>"# + "\n"
        }
        svg += #"<text x="\#(left + plotW / 2)" y="\#(height - 30)" text-anchor="middle">weight tensors, input side → "#
            + #"output side (\#(names.count))</text>"# + "\n"
        svg += #"<text x="\#(left)" y="\#(height - 12)" font-size="10">\#(XMLText.escaped(names.first!))</text>"#
            + #"<text x="\#(left + plotW)" y="\#(height - 12)" font-size="10" text-anchor="end">"#
            + XMLText.escaped(names.last!) + "</text>\n"
        svg += #"<text x="20" y="\#(top + plotH / 2)" text-anchor="middle" transform="rotate(-90 20 \#(top + plotH / 2))">"#
            + "gradient L2 norm (log scale)</text>\n"
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        // One line per logged step (rows are written in depth order, step by step).
        let series = Dictionary(grouping: kernels, by: \.step), steps = series.keys.sorted()
        let perEpoch = Set(rows.map(\.epoch)).count == Set(rows.map(\.step)).count
        for (n, step) in steps.enumerated() {
            let shade = steps.count > 1 ? Double(n) / Double(steps.count - 1) : 1
            let color = String(format: "#%02x%02x%02x", Int(200 - 170 * shade), Int(210 - 120 * shade), Int(240 - 60 * shade))
            let points = series[step]!.map { String(format: "%.1f,%.1f", x(index[$0.parameter]!), y(log10($0.gradientNorm))) }
            svg += #"<polyline fill="none" stroke="\#(color)" stroke-width="1.8" points="\#(points.joined(separator: " "))"/>"# + "\n"
            if n == 0 || n == steps.count - 1 || steps.count <= 8 {
                let epoch = series[step]![0].epoch, label = "epoch \(epoch)" + (perEpoch ? "" : ", step \(step)")
                let ly = top + 14 + Double(min(n, 8)) * 16
                svg += #"<line x1="\#(width - right + 12)" x2="\#(width - right + 32)" y1="\#(ly - 4)" y2="\#(ly - 4)" "#
                    + #"stroke="\#(color)" stroke-width="2"/><text x="\#(width - right + 36)" y="\#(ly)">\#(label)</text>"# + "\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// The kernels' names in depth order.
    private static func orderedNames(_ rows: [GradientRow]) -> [String] {
        var seen: [String: Int] = [:]
        for r in rows where seen[r.parameter] == nil { seen[r.parameter] = r.depth }
        return seen.sorted { $0.value < $1.value }.map(\.key)
    }
}
