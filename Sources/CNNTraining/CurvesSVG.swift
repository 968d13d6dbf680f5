import CNNData
import Foundation

/// `curves.svg`: a run's learning curves as a self-contained SVG (no scripts, fonts or external
/// files; any browser or `rsvg-convert` shows it). Two panels side by side — loss and accuracy (in
/// percent) per epoch — each with the train, validation and test series that the run has
/// (matplotlib's default colours: blue, orange, green), axes with ticks at "nice" steps
/// (1, 2 or 5 × 10ᵏ, Heckbert, "Nice numbers for graph labels", Graphics Gems 1990), light grid
/// lines, and one shared legend. A segmentation run adds its validation and test mean IoU to the
/// accuracy panel as dashed lines. A non-finite value (a diverged loss) breaks its line instead of
/// wrecking the scale.
public enum CurvesSVG {
    private struct Series: Sendable {
        let id: String
        let label: String
        let color: String
        let loss: @Sendable (EpochRecord) -> Double?
        let accuracy: @Sendable (EpochRecord) -> Double?
        var dashed = false
    }

    private static let allSeries = [
        Series(id: "train", label: "train", color: "#1f77b4",
               loss: { $0.trainLoss }, accuracy: { $0.trainAccuracy }),
        Series(id: "validation", label: "validation", color: "#ff7f0e",
               loss: { $0.valLoss }, accuracy: { $0.valAccuracy }),
        Series(id: "test", label: "test", color: "#2ca02c",
               loss: { $0.testLoss }, accuracy: { $0.testAccuracy }),
        Series(id: "validation-iou", label: "validation mIoU", color: "#ff7f0e",
               loss: { _ in nil }, accuracy: { $0.valMeanIoU }, dashed: true),
        Series(id: "test-iou", label: "test mIoU", color: "#2ca02c",
               loss: { _ in nil }, accuracy: { $0.testMeanIoU }, dashed: true),
    ]

    private static let width = 960.0, height = 420.0
    private static let plotTop = 96.0, plotBottom = 356.0, panelWidth = 380.0
    private static let panelLefts = [72.0, 548.0]

    public static func render(_ records: [EpochRecord], title: String) -> String {
        let present = allSeries.filter { s in records.contains { s.loss($0) != nil || s.dashed && s.accuracy($0) != nil } }
        let segmentation = records.contains(where: \.hasMeanIoU)
        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(fmt(width / 2))" y="26" text-anchor="middle" font-size="16" \
            font-weight="bold">\(XMLText.escaped(title))</text>

            """
        svg += legend(present)
        let epochs = records.map { Double($0.epoch) }
        var xRange = (epochs.min() ?? 0, epochs.max() ?? 1)
        if xRange.0 == xRange.1 { xRange = (xRange.0 - 1, xRange.1 + 1) }
        svg += panel(records, present, left: panelLefts[0], xRange: xRange, name: "loss",
                     heading: "Loss", yLabel: "loss", value: { s, r in s.loss(r) }, scale: 1,
                     clamp: nil)
        svg += panel(records, present, left: panelLefts[1], xRange: xRange, name: "accuracy",
                     heading: segmentation ? "Pixel accuracy and mean IoU" : "Accuracy",
                     yLabel: segmentation ? "pixel accuracy, mIoU (%)" : "accuracy (%)",
                     value: { s, r in s.accuracy(r) }, scale: 100, clamp: (0, 100))
        return svg + "</svg>\n"
    }

    private static func legend(_ present: [Series]) -> String {
        let itemWidth = max(110.0, 38 + 6.5 * Double(present.map(\.label.count).max() ?? 0))
        var x = width / 2 - itemWidth * Double(present.count) / 2
        var out = "<g id=\"legend\">\n"
        for s in present {
            out += "<line x1=\"\(fmt(x))\" y1=\"50\" x2=\"\(fmt(x + 24))\" y2=\"50\" "
                + "stroke=\"\(s.color)\" stroke-width=\"2.5\"\(s.dashed ? " stroke-dasharray=\"6 3\"" : "")/>"
                + "<circle cx=\"\(fmt(x + 12))\" cy=\"50\" r=\"3\" fill=\"\(s.color)\"/>"
                + "<text x=\"\(fmt(x + 30))\" y=\"54\">\(s.label)</text>\n"
            x += itemWidth
        }
        return out + "</g>\n"
    }

    /// One panel: frame, grid, ticks, axis labels and a polyline per series (split where values
    /// are missing or not finite), with dots at the epochs when there are few enough to see.
    private static func panel(_ records: [EpochRecord], _ present: [Series], left: Double,
                              xRange: (Double, Double), name: String, heading: String,
                              yLabel: String, value: (Series, EpochRecord) -> Double?,
                              scale: Double, clamp: (Double, Double)?) -> String {
        let right = left + panelWidth
        let finite = present.flatMap { s in records.compactMap { value(s, $0) } }
            .map { $0 * scale }.filter(\.isFinite)
        var y = niceRange(finite.min() ?? clamp?.0 ?? 0, finite.max() ?? clamp?.1 ?? 1)
        if let (low, high) = clamp {
            y.low = max(y.low, low)
            y.high = min(y.high, high)
        }
        let xTicks = niceRange(xRange.0, xRange.1, integral: true)
        func px(_ x: Double) -> Double {
            left + (x - xRange.0) / (xRange.1 - xRange.0) * panelWidth
        }
        func py(_ v: Double) -> Double {
            plotBottom - (v - y.low) / (y.high - y.low) * (plotBottom - plotTop)
        }

        var out = "<g id=\"\(name)\">\n"
        out += "<text x=\"\(fmt(left + panelWidth / 2))\" y=\"\(fmt(plotTop - 12))\" "
            + "text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(heading)</text>\n"
        for tick in ticks(y) {
            out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(tick)))\" x2=\"\(fmt(right))\" "
                + "y2=\"\(fmt(py(tick)))\" stroke=\"#e0e0e0\"/>"
                + "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(py(tick) + 4))\" text-anchor=\"end\">"
                + "\(label(tick, step: y.step))</text>\n"
        }
        for tick in ticks(xTicks) where tick >= xRange.0 && tick <= xRange.1 {
            out += "<line x1=\"\(fmt(px(tick)))\" y1=\"\(fmt(plotBottom))\" "
                + "x2=\"\(fmt(px(tick)))\" y2=\"\(fmt(plotBottom + 5))\" stroke=\"black\"/>"
                + "<text x=\"\(fmt(px(tick)))\" y=\"\(fmt(plotBottom + 19))\" "
                + "text-anchor=\"middle\">\(label(tick, step: xTicks.step))</text>\n"
        }
        out += "<rect x=\"\(fmt(left))\" y=\"\(fmt(plotTop))\" width=\"\(fmt(panelWidth))\" "
            + "height=\"\(fmt(plotBottom - plotTop))\" fill=\"none\" stroke=\"black\"/>\n"
            + "<text x=\"\(fmt(left + panelWidth / 2))\" y=\"\(fmt(plotBottom + 40))\" "
            + "text-anchor=\"middle\">epoch</text>\n"
            + "<text transform=\"translate(\(fmt(left - 48)),\(fmt((plotTop + plotBottom) / 2))) "
            + "rotate(-90)\" text-anchor=\"middle\">\(yLabel)</text>\n"
        if records.isEmpty {
            out += "<text x=\"\(fmt(left + panelWidth / 2))\" "
                + "y=\"\(fmt((plotTop + plotBottom) / 2))\" text-anchor=\"middle\" "
                + "fill=\"#808080\">no epochs yet</text>\n"
        }
        for s in present where records.contains(where: { value(s, $0) != nil }) {
            var runs: [[(Double, Double)]] = [[]]
            for r in records {
                if let v = value(s, r).map({ $0 * scale }), v.isFinite {
                    runs[runs.count - 1].append((px(Double(r.epoch)), py(v)))
                } else if !runs[runs.count - 1].isEmpty {
                    runs.append([])
                }
            }
            out += "<g id=\"\(name)-\(s.id)\" stroke=\"\(s.color)\" fill=\"\(s.color)\">\n"
            for run in runs where !run.isEmpty {
                let points = run.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
                out += "<polyline points=\"\(points)\" fill=\"none\" stroke-width=\"2\""
                    + (s.dashed ? " stroke-dasharray=\"6 3\"" : "") + "/>\n"
            }
            if records.count <= 60 {
                for point in runs.joined() {
                    out += "<circle cx=\"\(fmt(point.0))\" cy=\"\(fmt(point.1))\" r=\"2.5\"/>\n"
                }
            }
            out += "</g>\n"
        }
        return out + "</g>\n"
    }

    /// An axis from `low` to `high` widened to whole multiples of a nice step (1, 2 or 5 × 10ᵏ)
    /// giving about five intervals; an empty range is widened first so it still has ticks.
    static func niceRange(_ low: Double, _ high: Double, integral: Bool = false)
        -> (low: Double, high: Double, step: Double)
    {
        var (low, high) = (low, high)
        if high - low < 1e-12 {
            let pad = abs(low) > 1e-12 ? abs(low) * 0.1 : 1
            (low, high) = (low - pad, high + pad)
        }
        var step = niceNumber((high - low) / 5)
        if integral { step = max(1, step.rounded()) }
        return ((low / step).rounded(.down) * step, (high / step).rounded(.up) * step, step)
    }

    /// `x` rounded to 1, 2, 5 or 10 × 10ᵏ (Heckbert's rounding cut-offs 1.5, 3 and 7).
    private static func niceNumber(_ x: Double) -> Double {
        let magnitude = pow(10, (log10(x)).rounded(.down))
        let fraction = x / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * magnitude
    }

    private static func ticks(_ axis: (low: Double, high: Double, step: Double)) -> [Double] {
        let count = Int(((axis.high - axis.low) / axis.step).rounded())
        return (0...max(count, 0)).map { axis.low + Double($0) * axis.step }
    }

    /// A tick label with as many decimals as the step needs (0.05 → 2, 20 → 0).
    private static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, Int((-log10(step)).rounded(.up)))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    private static func fmt(_ x: Double) -> String { String(format: "%.1f", x) }

}
