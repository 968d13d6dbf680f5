import Foundation
import XCTest

final class BenchCommandTests: XCTestCase {
    func testJSONHasTheDocumentedKeys() throws {
        let r = try CLI.run(["bench", "configs/bench/lstm128.json", "--batch", "4", "--iterations", "2",
                             "--rounds", "1", "--threads", "1", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["train_images_per_second", "infer_images_per_second", "latency_ms_b1", "peak_rss_bytes",
                    "blas_gflops", "blas_core", "layers", "train_gflops", "macs_per_sample"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["parameters"] as? Int, 82_186)
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.compactMap { $0["name"] as? String }.sorted(), ["fc", "lstm"])
        let latency = try XCTUnwrap(json["latency_ms_b1"] as? [String: Double])
        XCTAssertNotNil(latency["median"])
        XCTAssertNotNil(latency["p90"])
    }

    func testTableNamesTheBLASCoreAndTheLayers() throws {
        let r = try CLI.run(["bench", "configs/bench/lenet5.json", "--batch", "2", "--iterations", "1", "--rounds", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("BLAS: OpenBLAS core "), r.stdout)
        XCTAssertTrue(r.stdout.contains("training step"), r.stdout)
        XCTAssertTrue(r.stdout.contains("c1_relu"), r.stdout)
    }

    func testBadArgumentsAndConfigsFail() throws {
        let zero = try CLI.run(["bench", "configs/bench/lenet5.json", "--iterations", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertEqual(zero.status, 64)
        XCTAssertTrue(zero.stderr.contains("--iterations must be in 1...1000000, got 0"), zero.stderr)
        let small = try CLI.run(["bench", "configs/bench/lenet5.json", "--memory-limit", "1M"])
        XCTAssertEqual(small.status, 1)
        XCTAssertTrue(small.stderr.contains("for benchmarking of model lenet5 at batch 64, but only 1.00 MiB of memory is "
                                            + "available (--memory-limit)"), small.stderr)
        XCTAssertEqual(try CLI.run(["bench", "configs/bench/lenet5.json", "--memory-limit", "12x"]).status, 64)
        let missing = try CLI.run(["bench", "configs/bench/nope.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope.json"), missing.stderr)
    }

    /// With CNNCTL_BLAS_CORE naming a core, the re-executed process loads it and says so.
    func testTheBLASCoreCanBeChosen() throws {
        setenv("CNNCTL_BLAS_CORE", "Haswell", 1)
        defer { unsetenv("CNNCTL_BLAS_CORE") }
        let r = try CLI.run(["bench", "configs/bench/gru128.json", "--batch", "2", "--iterations", "1", "--rounds", "1",
                             "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["blas_core"] as? String, "Haswell (from CNNCTL_BLAS_CORE=Haswell)")
    }
}
