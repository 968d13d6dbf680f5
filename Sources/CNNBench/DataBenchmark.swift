import CNNCore
import CNNData
import Foundation

/// Images per second of the input pipeline alone — decoding, transforms, batching on the
/// loader's worker threads — for the training transforms (the training set, shuffled) and the
/// evaluation transforms (the test set, else the validation set, else the training set run
/// through the evaluation steps). The way torchvision's `DataLoader` is timed in
/// scripts/bench_data_torch.py: the first `warmupBatches` batches start the workers and are not
/// counted; the rest of one epoch, or `batches` batches, are.
public struct DataBenchmark {
    public struct Report: Codable, Sendable {
        public struct Pass: Codable, Sendable {
            public var split: String
            public var images: Int
            public var seconds: Double
            public var imagesPerSecond: Double
            public var sampleShape: [Int]
            enum CodingKeys: String, CodingKey {
                case split, images, seconds, imagesPerSecond = "images_per_second", sampleShape = "sample_shape"
            }
        }
        public var config: String
        public var workers: Int
        public var batch: Int
        public var cached: Bool
        public var cpu: String
        public var passes: [Pass]
    }

    public static let warmupBatches = 5

    public let data: LoadedData
    public let batch: Int
    public let workers: Int

    public init(data: LoadedData, batch: Int, workers: Int) {
        self.data = data
        self.batch = batch
        self.workers = workers
    }

    /// Times the training pass and the evaluation pass (`batches` > 0 limits each).
    public func run(config: String, batches: Int) throws -> Report {
        let eval = data.test ?? data.validation
        var passes = [try time(data.train, split: "train", shuffle: true, batches: batches)]
        if let eval { passes.append(try time(eval, split: "eval", shuffle: false, batches: batches)) }
        return Report(config: config, workers: workers, batch: batch, cached: data.train.images?.isCached ?? false,
                      cpu: Self.cpuName, passes: passes)
    }

    private func time(_ set: LabeledDataset, split: String, shuffle: Bool, batches limit: Int) throws -> Report.Pass {
        let loader = BatchLoader(dataset: set, batchSize: batch, shuffle: shuffle, seed: 1,
                                 normalization: data.normalization, augmentation: shuffle ? data.augmentation : nil,
                                 workers: workers)
        let end = limit > 0 ? min(loader.batchesPerEpoch, Self.warmupBatches + limit) : loader.batchesPerEpoch
        var start = Date(), images = 0, checksum: Float = 0
        try loader.forEachBatch(epoch: 0) { b in
            if b.index == min(Self.warmupBatches, end - 1) { start = Date() }
            if b.index >= min(Self.warmupBatches, end - 1) { images += b.count }
            checksum += b.images.data[0]   // touch the batch, as a model would
            return b.index + 1 < end
        }
        let seconds = Date().timeIntervalSince(start)
        _ = checksum
        return Report.Pass(split: split, images: images, seconds: seconds,
                           imagesPerSecond: Double(images) / max(seconds, 1e-9), sampleShape: set.inputShape.dims)
    }

    /// The processor's model name from /proc/cpuinfo.
    public static var cpuName: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
