import CNNCore
import XCTest

@testable import CNNData

final class BatchLoaderTests: XCTestCase {
    /// Ten 1x1x1 samples whose value is their index and whose label is index mod 3, so a
    /// batch shows which samples it holds.
    let indexed = LabeledDataset(name: "i", sampleShape: [1, 1, 1],
                                 values: (0..<10).map(Float.init),
                                 labels: (0..<10).map { Int32($0 % 3) },
                                 classCount: 3, classNames: nil)

    /// Every batch of a pass: (index, image values, labels), copied out during the call.
    private func collect(_ loader: BatchLoader, epoch: Int, from start: Int = 0) throws
        -> [(Int, [Float], [Int32])] {
        var batches: [(Int, [Float], [Int32])] = []
        try loader.forEachBatch(epoch: epoch, startingAt: start) { b in
            XCTAssertEqual(b.images.shape, loader.dataset.sampleShape.batched(b.count))
            batches.append((b.index, b.images.array, Array(b.labels)))
            return true
        }
        return batches
    }

    private func order(_ batches: [(Int, [Float], [Int32])]) -> [Int] {
        batches.flatMap { $0.1.map { Int($0) } }
    }

    func testBatchCountAndPartialLastBatch() throws {
        for prefetch in [false, true] {
            let loader = BatchLoader(dataset: indexed, batchSize: 4, shuffle: false, seed: 0,
                                     normalization: nil, augmentation: nil, prefetch: prefetch)
            // ⌈10 / 4⌉ = 3 batches of 4, 4, 2.
            XCTAssertEqual(loader.batchesPerEpoch, 3)
            let batches = try collect(loader, epoch: 0)
            XCTAssertEqual(batches.map(\.0), [0, 1, 2])
            XCTAssertEqual(batches.map(\.1.count), [4, 4, 2])
            XCTAssertEqual(order(batches), Array(0..<10))
            XCTAssertEqual(batches.flatMap(\.2), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        }
    }

    func testShuffledEpochsVisitEverySampleOnceInASeededOrder() throws {
        let loader = BatchLoader(dataset: indexed, batchSize: 3, shuffle: true, seed: 7,
                                 normalization: nil, augmentation: nil)
        let epoch0 = order(try collect(loader, epoch: 0))
        let epoch1 = order(try collect(loader, epoch: 1))
        XCTAssertEqual(epoch0.sorted(), Array(0..<10))
        XCTAssertEqual(epoch1.sorted(), Array(0..<10))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertNotEqual(epoch0, Array(0..<10))
        XCTAssertEqual(epoch0, loader.order(epoch: 0))
        // A new loader with the same seed repeats the order; labels follow their samples.
        let again = BatchLoader(dataset: indexed, batchSize: 3, shuffle: true, seed: 7,
                                normalization: nil, augmentation: nil, prefetch: false)
        let batches = try collect(again, epoch: 1)
        XCTAssertEqual(order(batches), epoch1)
        XCTAssertEqual(batches.flatMap(\.2), epoch1.map { Int32($0 % 3) })
        let otherSeed = BatchLoader(dataset: indexed, batchSize: 3, shuffle: true, seed: 8,
                                    normalization: nil, augmentation: nil)
        XCTAssertNotEqual(order(try collect(otherSeed, epoch: 1)), epoch1)
    }

    /// Images with normalization and every augmentation, so the comparisons below cover the
    /// per-sample generators too: 37 samples of [2, 5, 5] in batches of 8 (4 full, 1 of 5).
    private func augmentedLoader(prefetch: Bool) -> BatchLoader {
        let data = SyntheticImages.make(count: 37, shape: [2, 5, 5], classes: 4, seed: 3,
                                        noise: 0.3)
        return BatchLoader(dataset: data, batchSize: 8, shuffle: true, seed: 11,
                           normalization: Normalization(mean: [0.5, 0.4], std: [0.25, 0.5]),
                           augmentation: Augmentation(cropPadding: 1, horizontalFlip: true,
                                                      translate: 1),
                           prefetch: prefetch)
    }

    func testPrefetchDoesNotChangeTheBatches() throws {
        let on = augmentedLoader(prefetch: true), off = augmentedLoader(prefetch: false)
        for epoch in 0..<3 {
            let a = try collect(on, epoch: epoch), b = try collect(off, epoch: epoch)
            XCTAssertEqual(a.count, 5)
            XCTAssertEqual(a.map(\.1), b.map(\.1))
            XCTAssertEqual(a.map(\.2), b.map(\.2))
        }
        // Another epoch reorders and re-augments: different batches from the same loader.
        XCTAssertNotEqual(try collect(on, epoch: 0).map(\.1), try collect(on, epoch: 1).map(\.1))
    }

    func testStartingAtGivesTheTailOfAFullPass() throws {
        for prefetch in [false, true] {
            let loader = augmentedLoader(prefetch: prefetch)
            let full = try collect(loader, epoch: 2)
            let tail = try collect(loader, epoch: 2, from: 3)
            XCTAssertEqual(tail.map(\.0), [3, 4])
            XCTAssertEqual(tail.map(\.1), full[3...].map(\.1))
            XCTAssertEqual(tail.map(\.2), full[3...].map(\.2))
            XCTAssertTrue(try collect(loader, epoch: 2, from: 5).isEmpty)
        }
    }

    func testBodyCanStopEarlyOrThrowAndTheLoaderStaysUsable() throws {
        struct Stop: Error {}
        for prefetch in [false, true] {
            let loader = augmentedLoader(prefetch: prefetch)
            var seen: [Int] = []
            try loader.forEachBatch(epoch: 0) { b in
                seen.append(b.index)
                return b.index < 1
            }
            XCTAssertEqual(seen, [0, 1])
            XCTAssertThrowsError(try loader.forEachBatch(epoch: 0) { b in
                if b.index == 2 { throw Stop() }
                return true
            }) { XCTAssertTrue($0 is Stop) }
            XCTAssertEqual(try collect(loader, epoch: 1).map(\.1),
                           try collect(augmentedLoader(prefetch: false), epoch: 1).map(\.1))
        }
    }

    /// The documented streams, which a resumed run relies on: the order comes from
    /// `RNG(seed: mixSeed(seed, epoch))`, sample i's augmentation from
    /// `RNG(seed: mixSeed(seed, epoch, i, 0xA0))`, applied after normalization.
    func testBatchesFollowTheDocumentedRandomStreams() throws {
        let loader = augmentedLoader(prefetch: true)
        let data = loader.dataset, per = data.sampleShape.count
        var rng = RNG(seed: mixSeed(11, 2))
        let order = Permutation.shuffled(count: data.count, rng: &rng)
        XCTAssertEqual(loader.order(epoch: 2), order)
        var expected: [Float] = []
        var scratch = [Float](repeating: 0, count: per)
        for i in order[0..<8] {
            var x = Array(data.values[i * per..<(i + 1) * per])
            var sampleRNG = RNG(seed: mixSeed(11, 2, UInt64(i), 0xA0))
            x.withUnsafeMutableBufferPointer { x in
                scratch.withUnsafeMutableBufferPointer { s in
                    loader.normalization!.apply(x.baseAddress!, shape: data.sampleShape)
                    loader.augmentation!.apply(x.baseAddress!, shape: data.sampleShape,
                                               rng: &sampleRNG, scratch: s.baseAddress!)
                }
            }
            expected += x
        }
        XCTAssertEqual(try collect(loader, epoch: 2)[0].1, expected)
    }

    /// The first sample of a non-shuffled, non-augmented pass is the dataset's first sample,
    /// normalized: (x − mean) / std per channel.
    func testNormalizationIsApplied() throws {
        let data = LabeledDataset(name: "n", sampleShape: [2, 1, 1], values: [0.5, 1, 0.25, 0],
                                  labels: [1, 0], classCount: 2, classNames: nil)
        let loader = BatchLoader(dataset: data, batchSize: 2, shuffle: false, seed: 0,
                                 normalization: Normalization(mean: [0.25, 0.5],
                                                              std: [0.5, 0.25]),
                                 augmentation: nil)
        // (0.5 − 0.25)/0.5 = 0.5, (1 − 0.5)/0.25 = 2,
        // (0.25 − 0.25)/0.5 = 0, (0 − 0.5)/0.25 = −2.
        XCTAssertEqual(try collect(loader, epoch: 0).map(\.1), [[0.5, 2, 0, -2]])
    }

    /// Three labels per sample: sample i (value i) has labels 10i, 10i + 1, 10i + 2, so every
    /// batch's labels must be its samples' groups, in the samples' order ([n, 3] flattened).
    func testSeveralLabelsPerSampleAreSampleMajor() throws {
        let data = LabeledDataset(name: "seq", sampleShape: [1], values: (0..<5).map(Float.init),
                                  labels: (0..<15).map { Int32($0 / 3 * 10 + $0 % 3) },
                                  classCount: 43, classNames: nil, labelsPerSample: 3)
        XCTAssertEqual(data.count, 5)
        for prefetch in [false, true] {
            let loader = BatchLoader(dataset: data, batchSize: 2, shuffle: true, seed: 3,
                                     normalization: nil, augmentation: nil, prefetch: prefetch)
            var counts: [Int] = [], labelCounts: [Int] = [], seen: [Int] = []
            try loader.forEachBatch(epoch: 0) { b in
                XCTAssertEqual(b.labelsPerSample, 3)
                counts.append(b.count)
                labelCounts.append(b.labels.count)
                let samples = b.images.array.map { Int32($0) }
                seen += samples.map(Int.init)
                XCTAssertEqual(Array(b.labels), samples.flatMap { [10 * $0, 10 * $0 + 1,
                                                                   10 * $0 + 2] })
                return true
            }
            // ⌈5 / 2⌉ = 3 batches of 2, 2, 1 samples: 6, 6, 3 labels.
            XCTAssertEqual(counts, [2, 2, 1])
            XCTAssertEqual(labelCounts, [6, 6, 3])
            XCTAssertEqual(seen.sorted(), Array(0..<5))
            XCTAssertNotEqual(seen, Array(0..<5))
        }
    }
}
