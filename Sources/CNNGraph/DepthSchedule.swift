import CNNConfig
import CNNLayers

/// A model's `"drop_path": {"max_rate": 0.1, "schedule": "linear"}`: the rate of every
/// `drop_path` layer that gives none, by its position i among all N `drop_path` layers of the
/// network (those with a rate of their own count, so a block without a residual can hold a
/// `"rate": 0` one to keep torchvision's block numbering, as its EfficientNet does).
/// `linear` is max·i/(N − 1), from 0 at the first block to the maximum at the last (torchvision's
/// ConvNeXt, timm: `torch.linspace(0, rate, N)`); `linear_exclusive` is max·i/N (torchvision's
/// EfficientNet); `constant` is the maximum everywhere.
struct DepthSchedule: Decodable {
    enum Kind: String, ConfigEnum { case linear, linearExclusive = "linear_exclusive", constant }

    var maxRate: Double
    var schedule: Kind?

    private enum CodingKeys: String, CodingKey { case maxRate = "max_rate", schedule }

    func rate(position i: Int, count n: Int) -> Float {
        switch schedule ?? .linear {
        case .linear: n > 1 ? Float(maxRate * Double(i) / Double(n - 1)) : 0
        case .linearExclusive: Float(maxRate * Double(i) / Double(n))
        case .constant: Float(maxRate)
        }
    }

    /// Sets the scheduled layers' rates; a layer left to a schedule the model lacks, or a schedule
    /// no layer follows, is an error.
    static func apply(_ schedule: DepthSchedule?, to nodes: [Node], path: String, file: String?) throws {
        let all = nodes.compactMap { $0.layer as? any DepthScheduled }, layers = all.filter(\.followsSchedule)
        guard let schedule else {
            if let first = layers.first as? any Layer {
                throw ConfigError(file: file, place: path, message: "\(first.type) \"\(first.name)\" gives no \"rate\" "
                                  + "and the model has no \"drop_path\": {\"max_rate\": …, \"schedule\": \"linear\"}")
            }
            return
        }
        guard (0..<1).contains(schedule.maxRate) else {
            throw ConfigError(file: file, place: "\(path).drop_path.max_rate", message: "must be in [0, 1), got \(schedule.maxRate)")
        }
        guard !layers.isEmpty else {
            throw ConfigError(file: file, place: "\(path).drop_path",
                              message: "no drop_path layer follows the schedule (one without \"rate\")")
        }
        for (i, layer) in all.enumerated() where layer.followsSchedule {
            layer.schedule(rate: schedule.rate(position: i, count: all.count))
        }
    }
}
