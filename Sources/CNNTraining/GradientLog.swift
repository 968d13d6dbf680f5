import CNNConfig
import CNNCore
import CNNData
import CNNGraph
import Foundation

/// `train.log_gradients`: `true` for one row per parameter tensor and epoch (the epoch's mean
/// gradient norm and update ratio, the weight norm at its end), or `{"every_steps": N}` for a row
/// per tensor every N optimizer steps (that step's values); `false` (the default) for none, and
/// then nothing is computed.
public struct GradientLogSpec: Decodable, Sendable, Equatable {
    public var enabled: Bool
    public var everySteps: Int?

    public init(enabled: Bool = true, everySteps: Int? = nil) {
        self.enabled = enabled
        self.everySteps = everySteps
    }

    private struct Options: Decodable {
        var everySteps: Int?
        enum CodingKeys: String, CodingKey { case everySteps = "every_steps" }
    }

    public init(from decoder: any Decoder) throws {
        if let on = try? decoder.singleValueContainer().decode(Bool.self) {
            self.init(enabled: on)
            return
        }
        guard case .object? = decoder.jsonValue else {
            throw decoder.configError("expected true, false or {\"every_steps\": N}, got "
                                      + (decoder.jsonValue.map(ConfigDecoder.describe) ?? "nothing"))
        }
        self.init(everySteps: try Options(from: decoder).everySteps)
    }
}

/// One row of `gradients.csv`: a parameter tensor's L2 gradient norm (of the loss, before
/// regularization and clipping), its weight norm after the step, and the update's norm over the
/// weight norm before it (‖Δw‖ / ‖w‖, Karpathy's "about 1e-3" rule of thumb).
public struct GradientRow: Equatable, Sendable {
    public var epoch: Int, step: Int, parameter: String, role: String, depth: Int
    public var gradientNorm: Double, weightNorm: Double, updateRatio: Double
}

/// Measures every trainable tensor around the optimizer steps it logs (`EpochLoop.applyUpdate`):
/// every step for per-epoch means, else every N-th. A measured step copies the parameters and
/// makes one pass over the gradients and one over old and new weights together; per-epoch rows
/// take the weight norms once, at the epoch's end.
final class GradientRecorder {
    let everySteps: Int?
    /// Trainable tensors in graph order (their depth): name, role, offset and size.
    private let tensors: [(name: String, role: String, offset: Int, count: Int)]
    private var before: [Float] = []
    /// Per tensor, the step being measured: gradient norm, update ratio, weight norm.
    private var gradientNorms: [Double], ratios: [Double], weights: [Double]
    /// Per tensor, sums over the epoch's measured steps (gradient norm, update ratio), and their count.
    private var sums: [(Double, Double)], steps = 0
    /// Every row so far (a resumed run's start with those of its finished epochs).
    var rows: [GradientRow] = []

    init(spec: GradientLogSpec, graph: Graph, offsets: [Int]) {
        everySteps = spec.everySteps
        tensors = graph.parameters.enumerated().filter { $0.element.spec.isTrainable }
            .map { ($0.element.name, $0.element.spec.role.rawValue, offsets[$0.offset], $0.element.spec.shape.count) }
        gradientNorms = Array(repeating: 0, count: tensors.count)
        ratios = gradientNorms
        weights = gradientNorms
        sums = Array(repeating: (0, 0), count: tensors.count)
    }

    /// Whether optimizer step `step` (counted from 1 over the run) is measured.
    func measures(step: Int) -> Bool { everySteps.map { step % $0 == 0 } ?? true }

    func beforeUpdate(parameters: UnsafePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        if before.count != count { before = [Float](repeating: 0, count: count) }
        before.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: parameters, count: count) }
        for (k, t) in tensors.enumerated() {
            gradientNorms[k] = GradientClipping.sumOfSquares(gradients + t.offset, count: t.count).squareRoot()
        }
    }

    func afterUpdate(parameters: UnsafePointer<Float>, epoch: Int, step: Int) {
        let perStep = everySteps != nil
        before.withUnsafeBufferPointer { old in
            for (k, t) in tensors.enumerated() {
                var change = 0.0, was = 0.0, now = 0.0
                for i in t.offset..<t.offset + t.count {
                    let a = Double(old[i]), b = Double(parameters[i])
                    change += (b - a) * (b - a)
                    was += a * a
                    if perStep { now += b * b }
                }
                ratios[k] = was > 0 ? (change / was).squareRoot() : 0
                weights[k] = now.squareRoot()
            }
        }
        if perStep {
            emit(epoch: epoch, step: step, gradient: gradientNorms, ratio: ratios, weight: weights)
        } else {
            for k in sums.indices { sums[k].0 += gradientNorms[k]; sums[k].1 += ratios[k] }
            steps += 1
        }
    }

    /// With per-epoch rows: the epoch's means (of the steps run since this process started it),
    /// and the weight norms as the epoch leaves them.
    func endEpoch(_ epoch: Int, step: Int, parameters: UnsafePointer<Float>) {
        guard everySteps == nil, steps > 0 else { return }
        let n = Double(steps)
        let norms = tensors.map { GradientClipping.sumOfSquares(parameters + $0.offset, count: $0.count).squareRoot() }
        emit(epoch: epoch, step: step, gradient: sums.map { $0.0 / n }, ratio: sums.map { $0.1 / n }, weight: norms)
        sums = Array(repeating: (0, 0), count: tensors.count)
        steps = 0
    }

    private func emit(epoch: Int, step: Int, gradient: [Double], ratio: [Double], weight: [Double]) {
        for (k, t) in tensors.enumerated() {
            rows.append(GradientRow(epoch: epoch, step: step, parameter: t.name, role: t.role, depth: k,
                                    gradientNorm: gradient[k], weightNorm: weight[k], updateRatio: ratio[k]))
        }
    }
}

/// `gradients.csv` and its reading back (a resumed run goes on from the rows of finished epochs):
/// CSV through `CSVText` (names are quoted where they need it), numbers in Swift's shortest form
/// that reads back to the same Double, as `MetricsCSV` writes them.
enum GradientCSV {
    static let header = ["epoch", "step", "parameter", "role", "depth", "gradient_norm", "weight_norm", "update_ratio"]

    static func render(_ rows: [GradientRow]) throws -> String {
        try CSVText.render([header] + rows.map {
            ["\($0.epoch)", "\($0.step)", $0.parameter, $0.role, "\($0.depth)", "\($0.gradientNorm)", "\($0.weightNorm)",
             "\($0.updateRatio)"]
        })
    }

    /// The rows of `text`; a file that is not this format is an error naming it.
    static func parse(_ text: String, file: String) throws -> [GradientRow] {
        var lines = try CSVText.rows(text, file: file)
        guard !lines.isEmpty else { return [] }
        guard lines.removeFirst() == header else { throw RunError("\(file): not a gradients.csv (header differs)") }
        return try lines.enumerated().map { i, f in
            guard f.count == 8, let e = Int(f[0]), let s = Int(f[1]), let d = Int(f[4]), let g = Double(f[5]),
                  let w = Double(f[6]), let r = Double(f[7]) else {
                throw RunError("\(file):\(i + 2): not a gradients.csv row")
            }
            return GradientRow(epoch: e, step: s, parameter: f[2], role: f[3], depth: d, gradientNorm: g, weightNorm: w,
                               updateRatio: r)
        }
    }
}
