import CNNBench
import CNNCore
import CNNGraph
import CNNTraining
import XCTest

final class BenchmarkTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func bench(_ name: String, batch: Int = 8, soak: Int = 0) throws -> (BenchReport, Graph) {
        let path = Self.root + "/configs/bench/\(name).json"
        let config = try ConfigFile.load(path)
        let train = try config.train.map { try TrainSpec.load($0, file: path) }
        let graph = try config.buildGraph()
        let options = BenchOptions(batch: batch, threads: 1, iterations: 2, rounds: 1, soakSteps: soak)
        return (try Benchmark(graph: graph, train: train, options: options, file: path).run(config: path), graph)
    }

    func testReportCoversEveryNodeSlowestFirst() throws {
        let (r, graph) = try bench("lenet5")
        XCTAssertEqual(r.parameters, 61_706)
        XCTAssertEqual(r.macsPerSample, 423_038)
        XCTAssertEqual(Set(r.layers.map(\.name)), Set(graph.nodes.map(\.layer.name)))
        XCTAssertEqual(r.layers.map(\.totalMs), r.layers.map(\.totalMs).sorted(by: >))
        XCTAssertTrue(r.layers.allSatisfy { $0.forwardMs >= 0 && $0.backwardMs >= 0 })
        let convs = r.layers.filter { $0.type == "conv2d" }
        XCTAssertEqual(convs.count, 2)
        XCTAssertTrue(convs.allSatisfy { $0.forwardMs > 0 && $0.backwardMs > 0 })
        XCTAssertGreaterThanOrEqual(r.profiledStepMs, r.layers.reduce(0) { $0 + $1.totalMs })
    }

    func testThroughputMemoryAndFlopsAreReported() throws {
        let (r, _) = try bench("gru128", batch: 4)
        XCTAssertTrue(r.trainImagesPerSecond.isFinite && r.trainImagesPerSecond > 0)
        XCTAssertTrue(r.inferImagesPerSecond.isFinite && r.inferImagesPerSecond > 0)
        // `cnnctl summarize configs/bench/gru128.json`: 1,700,106 MACs per sequence.
        XCTAssertEqual(r.macsPerSample, 1_700_106)
        XCTAssertGreaterThan(r.trainGflops, 0)
        XCTAssertGreaterThan(r.inferGflops, 0)
        XCTAssertLessThanOrEqual(r.latencyMsB1.median, r.latencyMsB1.p90)
        XCTAssertGreaterThan(r.blasGflops, 0)
        XCTAssertGreaterThan(r.rssBytesAfterWarmup, 0)
        XCTAssertGreaterThanOrEqual(r.peakRssBytes, r.rssBytesAfterTraining)
        XCTAssertEqual(r.trainingSteps, 2 * 3 + 2)
        XCTAssertEqual(r.batch, 4)
    }

    func testSoakSamplesResidentMemoryTenTimes() throws {
        let (r, _) = try bench("lenet5", batch: 2, soak: 20)
        let soak = try XCTUnwrap(r.soak)
        XCTAssertEqual(soak.map(\.step), [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20])
        XCTAssertTrue(soak.allSatisfy { $0.rssBytes > 0 })
    }

    /// The timed steps train: the bench's SGD moves the weights.
    func testTrainingStepsUpdateTheWeights() throws {
        let path = Self.root + "/configs/bench/lenet5.json"
        let graph = try ConfigFile.load(path).buildGraph()
        let options = BenchOptions(batch: 4, threads: 1, iterations: 1, rounds: 1)
        let benchmark = try Benchmark(graph: graph, train: nil, options: options, file: path)
        let before = Array(UnsafeBufferPointer(start: benchmark.executorParameters.data, count: benchmark.executorParameters.count))
        _ = benchmark.run(config: path)
        let after = Array(UnsafeBufferPointer(start: benchmark.executorParameters.data, count: benchmark.executorParameters.count))
        XCTAssertNotEqual(before, after)
        XCTAssertTrue(after.allSatisfy(\.isFinite))
    }
}
