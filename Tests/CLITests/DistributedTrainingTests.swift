import CNNTraining
import Foundation
import XCTest

/// `mpirun -np 2 cnnctl train` on one machine (Open MPI from Debian, one thread per rank, root
/// allowed as CI runs as root): the same weights as one process within float rounding, identical
/// checkpoints from two runs, one writer, resume on another process count, and a failing rank
/// ending the job.
final class DistributedTrainingTests: XCTestCase {
    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Open MPI refuses to run as root (as CI does) unless told.
    static let rootAllowed = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    /// Runs `mpirun --oversubscribe --bind-to none` with `arguments` (the rank commands).
    private func mpirun(_ arguments: [String], in dir: String) throws -> CLI.Result {
        try CLI.run(["--oversubscribe", "--bind-to", "none"] + arguments, executable: URL(fileURLWithPath: Self.mpirun!),
                    directory: dir, environment: Self.rootAllowed)
    }

    /// The tensors of a checkpoint, by name.
    private func tensors(_ path: String) throws -> [String: [Float]] {
        let file = try SafeTensors.read(path)
        return try Dictionary(uniqueKeysWithValues: file.names.map { ($0, try file.values(of: $0)) })
    }

    private func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        XCTAssertEqual(a.mapValues(\.count), b.mapValues(\.count))
        return a.keys.map { k in zip(a[k]!, b[k] ?? []).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    func testTwoRanksTrainAsOne() throws {
        guard Self.mpirun != nil else { throw XCTSkip("Open MPI's mpirun is not installed (scripts/setup installs it)") }
        let dir = try CLI.freshDirectory("mpi")
        let cnnctl = CLI.binary.path
        // No batch norm or dropout: the processes' shares of each batch give the one-process
        // gradient exactly, up to the order of the sums. 70 samples in batches of 16: the last is 6.
        FileManager.default.createFile(atPath: dir + "/c.json", contents: Data("""
            {"model": {"name": "small", "input": [1, 8, 8], "layers": [
               {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
               {"type": "flatten"},
               {"type": "dense", "name": "out", "units": 3}]},
             "data": {"train": {"type": "synthetic", "count": 70, "classes": 3, "shape": [1, 8, 8], "seed": 2},
                      "test": {"type": "synthetic", "count": 20, "classes": 3, "shape": [1, 8, 8], "seed": 3}},
             "train": {"epochs": 2, "batch_size": 16, "seed": 1, "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}}}
            """.utf8))
        let train = [cnnctl, "train", "c.json", "--threads", "1"]
        let one = try CLI.run(["train", dir + "/c.json", "--threads", "1", "--out", dir + "/one"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try mpirun(["-np", "2"] + train + ["--out", "two"], in: dir)
        XCTAssertEqual(two.status, 0, two.stderr)
        let again = try mpirun(["-np", "2"] + train + ["--out", "again"], in: dir)
        XCTAssertEqual(again.status, 0, again.stderr)

        // (a) Two processes end where one does, within float rounding (the sums' order differs).
        let reference = try tensors(dir + "/one/last.safetensors")
        XCTAssertLessThan(largestDifference(reference, try tensors(dir + "/two/last.safetensors")), 1e-6)
        // The epoch figures are the whole batch's: the same lines as one process.
        // metrics.csv: epoch, train loss and accuracy, validation (empty here), test loss and accuracy.
        func metrics(_ run: String) throws -> [Double] {
            try String(contentsOfFile: dir + "/\(run)/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .flatMap { line in line.split(separator: ",", omittingEmptySubsequences: false).prefix(7).compactMap { Double($0) } }
        }
        func assertSameMetrics(_ run: String) throws {
            let a = try metrics(run), b = try metrics("one")
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(1, abs(y)), run) }
        }
        try assertSameMetrics("two")
        // (b) Two runs of two processes write identical weights.
        XCTAssertEqual(try tensors(dir + "/two/last.safetensors"), try tensors(dir + "/again/last.safetensors"))
        // (c) Rank 0 alone writes: one header in the log, which names the processes.
        let log = try String(contentsOfFile: dir + "/two/log.txt", encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "model small:").count - 1, 1, log)
        XCTAssertTrue(log.contains("2 processes (each a share of every batch; threads per process)"), log)

        // (d) Stopped after 7 steps on two processes, resumed on one: it finishes where one did.
        let part = try mpirun(["-np", "2"] + train + ["--out", "part", "--stop-after-steps", "7"], in: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/part/last.state.safetensors"), part.stderr)
        let resumed = try CLI.run(["train", dir + "/c.json", "--threads", "1", "--resume", dir + "/part"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertLessThan(largestDifference(reference, try tensors(dir + "/part/last.safetensors")), 1e-6)
        try assertSameMetrics("part")

        // A rank that cannot read its data ends the job, naming itself, instead of leaving rank 0
        // waiting in a collective.
        let bad = try String(contentsOfFile: dir + "/c.json", encoding: .utf8).replacingOccurrences(
            of: #"{"type": "synthetic", "count": 70, "classes": 3, "shape": [1, 8, 8], "seed": 2}"#,
            with: #"{"type": "idx", "images": "missing.idx", "labels": "missing-labels.idx"}"#)
        FileManager.default.createFile(atPath: dir + "/bad.json", contents: Data(bad.utf8))
        let failed = try mpirun(["-np", "1"] + train + ["--out", "f", ":", "-np", "1", cnnctl, "train", "bad.json",
                                 "--threads", "1", "--out", "f"], in: dir)
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("error: rank 1 of 2: training failed"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("missing.idx"), failed.stderr)
    }

    /// With `sync_batchnorm`, batch norm's training statistics are the whole batch's: two processes
    /// train as one, running statistics included. Without it each process normalizes its own share
    /// (DDP's default), which is another model.
    func testSynchronizedBatchNorm() throws {
        guard Self.mpirun != nil else { throw XCTSkip("Open MPI's mpirun is not installed (scripts/setup installs it)") }
        let dir = try CLI.freshDirectory("mpi-bn")
        let config = { (sync: Bool) in """
            {"model": {"name": "bn", "input": [1, 8, 8], "layers": [
               {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1},
               {"type": "batchnorm", "name": "bn1", "activation": "relu"},
               {"type": "flatten"},
               {"type": "dense", "name": "out", "units": 3}]},
             "data": {"train": {"type": "synthetic", "count": 70, "classes": 3, "shape": [1, 8, 8], "seed": 2}},
             "train": {"epochs": 2, "batch_size": 16, "seed": 1, "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9},
                       "sync_batchnorm": \(sync)}}
            """ }
        FileManager.default.createFile(atPath: dir + "/sync.json", contents: Data(config(true).utf8))
        FileManager.default.createFile(atPath: dir + "/local.json", contents: Data(config(false).utf8))
        XCTAssertEqual(try CLI.run(["train", dir + "/sync.json", "--threads", "1", "--out", dir + "/one"]).status, 0)
        for name in ["sync", "local"] {
            let r = try mpirun(["-np", "2", CLI.binary.path, "train", name + ".json", "--threads", "1", "--out", name], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let one = try tensors(dir + "/one/last.safetensors")
        XCTAssertLessThan(largestDifference(one, try tensors(dir + "/sync/last.safetensors")), 1e-6)
        XCTAssertGreaterThan(largestDifference(one, try tensors(dir + "/local/last.safetensors")), 1e-3)
        // A last batch of 1 sample leaves a process without any: refused before training.
        let small = config(true).replacingOccurrences(of: #""count": 70"#, with: #""count": 65"#)
        FileManager.default.createFile(atPath: dir + "/small.json", contents: Data(small.utf8))
        let refused = try mpirun(["-np", "2", CLI.binary.path, "train", "small.json", "--threads", "1", "--out", "small"], in: dir)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("train.sync_batchnorm: needs a sample for each of the 2 processes in every "
                                              + "batch, but a batch of the 65 training samples has 1"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("rank 0 of 2") || refused.stderr.contains("rank 1 of 2"), refused.stderr)
    }

    /// A two-process run whose rank 1 is killed (SIGKILL) mid-training ends (mpirun takes the job
    /// down), and resumed on one process from the last checkpoint it finishes where an
    /// uninterrupted one-process run ends, whenever the kill came.
    func testKilledRunResumesOnOneProcess() throws {
        guard Self.mpirun != nil else { throw XCTSkip("Open MPI's mpirun is not installed (scripts/setup installs it)") }
        let dir = try CLI.freshDirectory("mpi-kill")
        FileManager.default.createFile(atPath: dir + "/c.json", contents: Data("""
            {"model": {"name": "mlp", "input": [16], "layers": [
               {"type": "dense", "name": "hidden", "units": 32, "activation": "tanh"},
               {"type": "dense", "name": "out", "units": 4}]},
             "data": {"train": {"type": "synthetic", "count": 256, "classes": 4, "shape": [16], "seed": 2}},
             "train": {"epochs": 60, "batch_size": 32, "seed": 1, "optimizer": {"type": "adam", "lr": 0.001}}}
            """.utf8))
        XCTAssertEqual(try CLI.run(["train", dir + "/c.json", "--threads", "1", "--out", dir + "/one"]).status, 0)
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: Self.mpirun!)
        launcher.arguments = ["--oversubscribe", "--bind-to", "none", "-np", "2", CLI.binary.path, "train", "c.json",
                              "--threads", "1", "--out", "killed"]
        launcher.currentDirectoryURL = URL(fileURLWithPath: dir)
        launcher.environment = ProcessInfo.processInfo.environment.merging(Self.rootAllowed) { $1 }
        launcher.standardOutput = FileHandle.nullDevice
        launcher.standardError = FileHandle.nullDevice
        try launcher.run()
        // Once the first epoch's checkpoint exists, kill rank 1 (mpirun's child whose environment
        // says rank 1).
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: dir + "/killed/last.state.safetensors") && Date() < deadline {
            usleep(5_000)
        }
        var killedRank = false
        for pid in childProcesses(of: launcher.processIdentifier) {
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            if String(decoding: environ, as: UTF8.self).contains("OMPI_COMM_WORLD_RANK=1\u{0}") {
                killedRank = kill(pid, SIGKILL) == 0
            }
        }
        launcher.waitUntilExit()
        XCTAssertTrue(killedRank, "rank 1 was not found to kill")
        XCTAssertNotEqual(launcher.terminationStatus, 0, "mpirun ends the job when a rank dies")
        let resumed = try CLI.run(["train", dir + "/c.json", "--threads", "1", "--resume", dir + "/killed"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let log = try String(contentsOfFile: dir + "/killed/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("resuming \(dir)/killed at epoch"), log)
        XCTAssertTrue(log.contains("epoch 60/60"), log)
        XCTAssertLessThan(largestDifference(try tensors(dir + "/one/last.safetensors"),
                                            try tensors(dir + "/killed/last.safetensors")), 1e-4)
    }

    /// The processes whose parent is `pid` (from /proc).
    private func childProcesses(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }
}
