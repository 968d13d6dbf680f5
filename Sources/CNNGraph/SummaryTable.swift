import CNNCore

/// Renders a `SummaryReport` as a torchinfo/Keras-style table.
public enum SummaryTable {
    /// `depth`: rows nested deeper than this are folded into their block's row.
    public static func render(_ report: SummaryReport, depth: Int? = nil) -> String {
        var out: [String] = []
        out.append("Model: \(report.model)" + (report.description.map { " — \($0)" } ?? ""))
        out.append("Input: \(shape(report.inputShape))   Output: "
                   + report.outputShapes.map(shape).joined(separator: ", "))
        let header = pad("Layer (type)", 46) + pad("Output shape", 20) + lpad("Params", 13)
            + lpad("MACs", 17) + "  Trainable"
        let rule = String(repeating: "=", count: header.count)
        out += [rule, header, rule]
        for row in report.rows where row.depth <= (depth ?? .max) {
            let folded = row.isBlock && row.depth == depth
            let local = String(row.name.dropFirst(parentPrefix(row, report).count))
            let label = String(repeating: "  ", count: row.depth) + local + " (\(row.type))"
            let trainable = row.params > 0 ? "yes" : "--"
            out.append(pad(label, 46) + pad(shape(row.outputShape), 20) + lpad(grouped(row.params), 13)
                       + lpad(grouped(row.macs), 17) + "  " + trainable)
            if let details = row.details { out.append(String(repeating: " ", count: 2 * row.depth + 4) + details) }
            if !row.isBlock || folded {
                for note in row.notes {
                    out.append(String(repeating: " ", count: 2 * row.depth + 4) + "note: " + note)
                }
            }
        }
        out.append(rule)
        let t = report
        var totals: [(String, String)] = [
            ("Total params", grouped(t.totalParams)),
            ("Trainable params", grouped(t.trainableParams)),
            ("Non-trainable params", grouped(t.nonTrainableParams)),
        ]
        if t.nonTrainableState > 0 {
            totals.append(("Non-trainable state", grouped(t.nonTrainableState)
                           + " (batch-norm running statistics; Keras adds them to its total)"))
        }
        totals += [
            ("Total MACs", grouped(t.totalMACs) + " (\(engineering(t.totalMACs))) per sample"),
            ("Parameter memory", bytes(t.parameterBytes) + " (float32, parameters and state)"),
            ("Activation memory", bytes(t.activationBytes) + " forward, batch \(t.batch); "
             + "training also holds their gradients (about 2×)"),
            ("Saved for backward", bytes(t.savedStateBytes) + " (pooling indices, dropout masks, norm "
             + "statistics, recurrent gates and states), batch \(t.batch)"),
            ("Shared workspace", bytes(t.workspaceBytes) + " (the largest layer's scratch, reused by every layer), "
             + "batch \(t.batch)"),
        ]
        if let rf = t.receptiveField {
            totals.append(("Receptive field", "\(rf.height)x\(rf.width) pixels at \(rf.node) "
                           + "(jump \(rf.jumpHeight == rf.jumpWidth ? "\(rf.jumpHeight)" : "\(rf.jumpHeight)x\(rf.jumpWidth)"))"))
        }
        let notes = t.layers.reduce(0) { $0 + $1.notes.count }
        if notes > 0 {
            totals.append(("Shape notes", "\(notes) inexact output-size division(s), shown on their rows"))
        }
        for (k, v) in totals { out.append(pad(k + ":", 24) + v) }
        out.append(rule)
        out.append("Counting: MACs are multiply-accumulates per sample, bias adds included (torchinfo's")
        out.append("mult-adds divided by the batch); recurrent layers count every time step.")
        return out.joined(separator: "\n") + "\n"
    }

    /// The name of the enclosing block plus a dot, stripped from nested rows.
    private static func parentPrefix(_ row: SummaryReport.Row, _ report: SummaryReport) -> String {
        let parents = report.blocks.filter { row.name.hasPrefix($0.name + ".") && $0.depth == row.depth - 1 }
        return parents.first.map { $0.name + "." } ?? ""
    }

    static func shape(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    /// 11689512 → "11,689,512".
    public static func grouped(_ n: Int) -> String {
        let digits = Array(String(abs(n)))
        var s = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { s.append(",") }
            s.append(d)
        }
        return (n < 0 ? "-" : "") + s
    }

    public static func engineering(_ n: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        for (scale, unit) in units where Double(n) >= scale {
            return fixed(Double(n) / scale, 2) + " " + unit
        }
        return "\(n)"
    }

    public static func bytes(_ n: Int) -> String { ByteCount(n).description }

    /// `x` rounded to `decimals` places, without Foundation's locale-dependent formatting.
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let v = Int((abs(x) * Double(scale)).rounded()), sign = x < 0 && v > 0 ? "-" : ""
        guard decimals > 0 else { return sign + "\(v)" }
        let frac = String(v % scale)
        return sign + "\(v / scale)." + String(repeating: "0", count: decimals - frac.count) + frac
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }

    static func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s
    }
}
