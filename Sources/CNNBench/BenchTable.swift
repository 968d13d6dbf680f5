import CNNGraph

/// The human-readable form of a `BenchReport`.
public enum BenchTable {
    public static func render(_ r: BenchReport, layerRows: Int = 25) -> String {
        let f = SummaryTable.fixed, g = SummaryTable.grouped
        func rate(_ x: Double) -> String { g(Int(x.rounded())) }
        func percent(_ x: Double) -> String { f(100 * x / r.blasGflops, 0) + "%" }
        var s = "\(r.config): \(r.model), \(g(r.parameters)) parameters, "
            + "\(SummaryTable.engineering(r.macsPerSample))MACs per sample\n"
        s += "BLAS: OpenBLAS core \(r.blasCore), \(r.threads) thread(s); sgemm 1024³ \(f(r.blasGflops, 1)) GFLOP/s\n"
        s += "kernels: \(r.kernels)\n"
        let winograd = r.winogradLayers.isEmpty ? "no layer" : r.winogradLayers.joined(separator: ", ")
        s += "Winograd F(4x4, 3x3): \(winograd) (\(r.winogradRule))\n"
        if !r.winogradLayers.isEmpty {
            s += "GFLOP/s count the multiplications of the direct form, which Winograd layers avoid in part\n"
        }
        s += "\n"
        let header = ["", "batch", "samples/s", "GFLOP/s", "of sgemm"]
        let rows = [
            ["training step", "\(r.batch)", rate(r.trainImagesPerSecond), f(r.trainGflops, 1), percent(r.trainGflops)],
            ["inference", "\(r.batch)", rate(r.inferImagesPerSecond), f(r.inferGflops, 1), percent(r.inferGflops)],
        ]
        s += table(header, rows, leftColumns: 1)
        s += "latency at batch 1: median \(f(r.latencyMsB1.median, 3)) ms, p90 \(f(r.latencyMsB1.p90, 3)) ms\n"
        s += "resident memory: peak \(SummaryTable.bytes(r.peakRssBytes)); "
            + "\(SummaryTable.bytes(r.rssBytesAfterWarmup)) after warm-up, "
            + "\(SummaryTable.bytes(r.rssBytesAfterTraining)) after \(g(r.trainingSteps)) training steps\n"
        if let soak = r.soak, let first = soak.first, let last = soak.last {
            s += "soak: resident memory " + soak.map { "\($0.step): \(SummaryTable.bytes($0.rssBytes))" }
                .joined(separator: ", ") + " (change \(g(last.rssBytes - first.rssBytes)) bytes over "
                + "\(g(last.step - first.step)) steps)\n"
        }
        let layerSum = r.layers.reduce(0) { $0 + $1.totalMs }
        s += "\nper layer: mean ms per training step over \(r.iterations) profiled steps (slowest first); the "
            + "throughput above comes from untimed runs\n"
        let shown = r.layers.prefix(layerRows).map {
            [$0.name, $0.type, $0.fusedInto.map { "in \($0)" } ?? f($0.forwardMs, 3),
             $0.fusedInto.map { "in \($0)" } ?? f($0.backwardMs, 3), f($0.totalMs, 3),
             f(100 * $0.totalMs / max(r.profiledStepMs, 1e-12), 1) + "%"]
        }
        var tail: [[String]] = []
        if r.layers.count > layerRows {
            let rest = r.layers.dropFirst(layerRows)
            tail.append(["(\(rest.count) more layers)", "", f(rest.reduce(0) { $0 + $1.forwardMs }, 3),
                         f(rest.reduce(0) { $0 + $1.backwardMs }, 3), f(rest.reduce(0) { $0 + $1.totalMs }, 3), ""])
        }
        tail.append(["loss, optimizer, zeroing", "", "", "", f(r.profiledStepMs - layerSum, 3),
                     f(100 * (r.profiledStepMs - layerSum) / max(r.profiledStepMs, 1e-12), 1) + "%"])
        tail.append(["profiled step", "", "", "", f(r.profiledStepMs, 3), ""])
        s += table(["layer", "type", "forward", "backward", "total", "share"], shown + tail, leftColumns: 2)
        if r.layers.contains(where: { $0.fusedInto != nil }) {
            s += "\"in L\": an activation fused into layer L's forward and backward (timed there) and run in place\n"
        }
        return s
    }

    /// Columns padded to their widest cell; the first `leftColumns` left-aligned, the rest right.
    static func table(_ header: [String], _ rows: [[String]], leftColumns: Int) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - row[c].count)
                return c < leftColumns ? row[c] + pad : pad + row[c]
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
