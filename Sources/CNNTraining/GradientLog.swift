import CNNConfig
import CNNCore
import CNNGraph
import Foundation

/// `train.log_gradients`: `true` for one row per parameter tensor and epoch (the epoch's mean
/// gradient norm and update ratio, the weight norm at its end), or `{"every_steps": N}` for a row
/// per tensor every N optimizer steps (that step's values). Off by default, and then nothing is
/// computed.
public struct GradientLogSpec: Decodable, Sendable, Equatable {
    public var everySteps: Int?

    public init(everySteps: Int? = nil) { self.everySteps = everySteps }

    enum CodingKeys: String, CodingKey { case everySteps = "every_steps" }

    /// `true`, `false` (nil) or the object form.
    static func decode(_ json: JSONValue?, file: String) throws -> GradientLogSpec? {
        switch json {
        case nil, .bool(false)?: return nil
        case .bool(true)?: return GradientLogSpec()
        case .object?:
            let spec = try ConfigDecoder.decode(GradientLogSpec.self, from: json!, path: "train.log_gradients", file: file)
            if let n = spec.everySteps, !(1...1_000_000_000).contains(n) {
                throw ConfigError(file: file, place: "train.log_gradients.every_steps", message: "must be ≥ 1, got \(n)")
            }
            return spec
        case let other?:
            throw ConfigError(file: file, place: "train.log_gradients", message: "expected true, false or "
                              + "{\"every_steps\": N}, got \(ConfigDecoder.describe(other))")
        }
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
/// every step for per-epoch means, else every N-th. The cost of a measured step: a copy of the
/// parameters and three passes over them.
final class GradientRecorder {
    let spec: GradientLogSpec
    /// Trainable tensors: name, offset, size, and depth (their order in the graph).
    private let tensors: [(name: String, role: String, offset: Int, count: Int)]
    private var before: [Float] = [], gradientNorms: [Double] = []
    /// Per tensor: sums over the epoch's steps (gradient norm, update ratio), and the step count.
    private var sums: [(Double, Double)], steps = 0
    /// Every row so far (a resumed run's start with those of its finished epochs).
    var rows: [GradientRow] = []

    init(spec: GradientLogSpec, graph: Graph, offsets: [Int]) {
        self.spec = spec
        tensors = graph.parameters.enumerated().filter { $0.element.spec.isTrainable }
            .map { ($0.element.name, $0.element.spec.role.rawValue, offsets[$0.offset], $0.element.spec.shape.count) }
        sums = Array(repeating: (0, 0), count: tensors.count)
    }

    private static func norm(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += Double(p[i]) * Double(p[i]) }
        return s.squareRoot()
    }

    /// Whether step `step` (counted from 1) is measured.
    func measures(step: Int) -> Bool { spec.everySteps.map { step % $0 == 0 } ?? true }

    func beforeUpdate(parameters: UnsafePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        if before.count != count { before = [Float](repeating: 0, count: count) }
        before.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: parameters, count: count) }
        gradientNorms = tensors.map { Self.norm(gradients + $0.offset, $0.count) }
    }

    func afterUpdate(parameters: UnsafePointer<Float>, epoch: Int, step: Int) {
        steps += 1
        var ratios: [Double] = [], weights: [Double] = []
        before.withUnsafeBufferPointer { old in
            for t in tensors {
                var change = 0.0
                for i in t.offset..<t.offset + t.count {
                    let d = Double(parameters[i]) - Double(old[i])
                    change += d * d
                }
                let was = Self.norm(old.baseAddress! + t.offset, t.count)
                ratios.append(was > 0 ? change.squareRoot() / was : 0)
                weights.append(Self.norm(parameters + t.offset, t.count))
            }
        }
        if spec.everySteps != nil {
            emit(epoch: epoch, step: step, gradient: gradientNorms, ratio: ratios, weight: weights)
        } else {
            for k in sums.indices { sums[k].0 += gradientNorms[k]; sums[k].1 += ratios[k] }
            if !weights.isEmpty { lastWeights = weights }
        }
    }

    private var lastWeights: [Double] = []

    /// With per-epoch rows: the epoch's means (of the steps run since this process started it).
    func endEpoch(_ epoch: Int, step: Int) {
        guard spec.everySteps == nil, steps > 0 else { return }
        let n = Double(steps)
        emit(epoch: epoch, step: step, gradient: sums.map { $0.0 / n }, ratio: sums.map { $0.1 / n }, weight: lastWeights)
        sums = Array(repeating: (0, 0), count: tensors.count)
        steps = 0
    }

    private func emit(epoch: Int, step: Int, gradient: [Double], ratio: [Double], weight: [Double]) {
        for (k, t) in tensors.enumerated() {
            rows.append(GradientRow(epoch: epoch, step: step, parameter: t.name, role: t.role, depth: k,
                                    gradientNorm: gradient[k],
                                    weightNorm: weight[k], updateRatio: ratio[k]))
        }
    }
}

/// `gradients.csv` and its reading back (a resumed run goes on from the rows of finished epochs).
enum GradientCSV {
    static let header = "epoch,step,parameter,role,depth,gradient_norm,weight_norm,update_ratio"

    static func render(_ rows: [GradientRow]) -> String {
        ([header] + rows.map {
            "\($0.epoch),\($0.step),\($0.parameter),\($0.role),\($0.depth),\(fmt($0.gradientNorm)),\(fmt($0.weightNorm)),"
                + fmt($0.updateRatio)
        }).joined(separator: "\n") + "\n"
    }

    private static func fmt(_ x: Double) -> String { String(format: "%.6g", x) }

    /// The rows of `text`; a file that is not this format is an error naming it.
    static func parse(_ text: String, file: String) throws -> [GradientRow] {
        var lines = text.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { return [] }
        guard lines.removeFirst() == header else { throw RunError("\(file): not a gradients.csv (header differs)") }
        return try lines.enumerated().map { i, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8, let e = Int(f[0]), let s = Int(f[1]), let d = Int(f[4]), let g = Double(f[5]),
                  let w = Double(f[6]), let r = Double(f[7]) else {
                throw RunError("\(file):\(i + 2): not a gradients.csv row")
            }
            return GradientRow(epoch: e, step: s, parameter: f[2], role: f[3], depth: d, gradientNorm: g, weightNorm: w,
                               updateRatio: r)
        }
    }
}
