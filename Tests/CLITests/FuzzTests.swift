import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Fuzzers of our own: seeded mutations of every file format cnnctl reads and of every numeric
/// option, each case a run of the real binary (`FuzzRunner`) that must end with a status in
/// {0, 1, 2, 64}, by no signal, within its deadline, under the memory bound, and — when it fails
/// on a file — with a message naming that file. `CNNCTL_FUZZ_SCALE=N` runs N times as many cases
/// (a soak run); `CNNCTL_FUZZ_SEED` changes the seed.
final class FuzzTests: XCTestCase {
    static let scale = Int(ProcessInfo.processInfo.environment["CNNCTL_FUZZ_SCALE"] ?? "") ?? 1
    static let seed = UInt64(ProcessInfo.processInfo.environment["CNNCTL_FUZZ_SEED"] ?? "") ?? 17
    /// Resident memory no case may exceed; the fixtures' real runs stay near 100 MB.
    static let peakLimit = 1 << 30
    static let deadline = 30.0

    /// What every case must satisfy; `blame` is the file whose damage the case made, which an
    /// error (status 1 or 2) must name (or the config that points at it).
    func check(_ arguments: [String], blame: [String], _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try FuzzRunner.run(arguments, timeout: Self.deadline)
        var what = "\(label): cnnctl \(arguments.joined(separator: " "))"
        let failed = r.signal != nil || r.timedOut || r.peakBytes >= Self.peakLimit || ![0, 1, 2, 64].contains(r.status ?? -1)
        if failed { what += " (inputs kept in \(keep(blame, label)))" }
        XCTAssertNil(r.signal, "\(what): signal \(r.signal ?? 0)\n\(r.stderr.suffix(2000))", file: file, line: line)
        XCTAssertFalse(r.timedOut, "\(what): still running after \(Self.deadline) s", file: file, line: line)
        XCTAssertLessThan(r.peakBytes, Self.peakLimit, "\(what): peak memory \(r.peakBytes)", file: file, line: line)
        if let status = r.status {
            XCTAssertTrue([0, 1, 2, 64].contains(status), "\(what): status \(status)\n\(r.stderr)", file: file, line: line)
            if status == 1 || status == 2, !blame.isEmpty {
                XCTAssertTrue(blame.contains { r.stderr.contains(($0 as NSString).lastPathComponent) },
                              "\(what): the message names none of \(blame): \(r.stderr)", file: file, line: line)
            }
        }
        peak = max(peak, r.peakBytes)
        cases += 1
    }

    private var peak = 0, cases = 0

    /// Copies a failing case's files where they survive the run, to replay it.
    private func keep(_ files: [String], _ label: String) -> String {
        let place = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-fuzz-failures/"
            + label.replacingOccurrences(of: " ", with: "-")).path
        try? FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: true)
        for file in files {
            try? FileManager.default.copyItem(atPath: file, toPath: place + "/" + (file as NSString).lastPathComponent)
        }
        return place
    }

    override func tearDown() {
        print("fuzz: \(cases) cases, peak resident memory \(peak >> 20) MiB")
        super.tearDown()
    }

    // MARK: - Fixtures

    lazy var directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-fuzz-\(getpid())-files").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    static let model = """
        {"name": "tiny", "input": [1, 6, 6], "layers": [
          {"type": "conv2d", "name": "c1", "filters": 3, "kernel": 3, "padding": 1, "activation": "relu"},
          {"type": "maxpool2d", "name": "p1", "kernel": 2},
          {"type": "batchnorm", "name": "bn"},
          {"type": "flatten"},
          {"type": "dropout", "rate": 0.2},
          {"type": "dense", "name": "out", "units": 3}]}
        """

    /// A full config of `model` on `data` (the entries of the "data" object).
    static func config(data: String, model: String = FuzzTests.model, epochs: Int = 1) -> String {
        """
        {"model": \(model),
         "data": {\(data)},
         "train": {"epochs": \(epochs), "batch_size": 8, "seed": 1, "optimizer": {"type": "adam", "lr": 0.01}}}
        """
    }

    /// Most layer types and blocks, for the config fuzzer: each of their numbers is a size a
    /// layer multiplies while it is built.
    static let wideModel = """
        {"name": "wide", "input": [1, 8, 8], "layers": [
          {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "dilation": 1, "groups": 1},
          {"type": "residual", "name": "r", "variant": "basic", "filters": 4, "stride": 1},
          {"type": "mbconv", "name": "m", "filters": 4, "expand": 2, "kernel": 3, "se": 0.25},
          {"type": "maxpool2d", "name": "p", "kernel": 2, "stride": 2},
          {"type": "conv_transpose2d", "name": "t", "filters": 2, "kernel": 2, "stride": 2},
          {"type": "upsample", "scale": 1},
          {"type": "groupnorm", "groups": 2},
          {"type": "layernorm", "normalized_dims": 3},
          {"type": "reshape", "shape": [8, 16]},
          {"type": "lstm", "hidden": 4, "layers": 2, "bidirectional": true},
          {"type": "dense", "units": 3}]}
        """

    static let synthetic = """
        "train": {"type": "synthetic", "count": 40, "classes": 3, "shape": [1, 6, 6], "seed": 2},
        "test": {"type": "synthetic", "count": 16, "classes": 3, "shape": [1, 6, 6], "seed": 3}
        """

    /// A trained run of the synthetic config: its directory (last, state, best).
    private func trainedRun() throws -> (config: String, run: String) {
        let config = write("synthetic.json", Self.config(data: Self.synthetic, epochs: 2))
        let run = directory + "/run"
        try? FileManager.default.removeItem(atPath: run)
        let r = try CLI.run(["train", config, "--out", run])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (config, run)
    }

    static func idxHeader(_ dims: [Int]) -> [UInt8] {
        [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } }
    }

    private func gzip(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", "-k", "-n", path]
        try p.run()
        p.waitUntilExit()
        return path + ".gz"
    }

    // MARK: - Command-line numbers

    func testNumericOptions() throws {
        let (config, run) = try trainedRun()
        let model = write("model.json", Self.model)
        let values = ["0", "-1", "1", "2", "65536", "65537", "1000001", "2147483648", "9223372036854775807",
                      "-9223372036854775808", "99999999999999999999", "1e3", "nan", "inf", "x", ""]
        var rng = FuzzRandom(seed: Self.seed)
        let commands: [([String], [String])] = [
            (["summarize", model], ["batch", "depth"]),
            (["eval", config, "--checkpoint", run + "/best.safetensors"], ["batch", "memory-limit"]),
            (["train", config, "--out", directory + "/cli-run"], ["epochs", "threads", "seed", "memory-limit"]),
            (["bench", model, "--iterations", "1", "--rounds", "1"], ["batch", "threads", "soak", "layers", "memory-limit"]),
            (["bench", model], ["iterations", "rounds"]),
        ]
        // Counts that are valid but would run for hours are left out: the deadline is not theirs.
        func usable(_ command: String, _ option: String, _ value: String) -> Bool {
            let long = ["epochs", "soak", "iterations", "rounds"].contains(option) || command == "bench" && option == "batch"
            return !(long && ["65536", "65537"].contains(value))
        }
        for (command, options) in commands {
            for option in options {
                for value in values where usable(command[0], option, value) {
                    try? FileManager.default.removeItem(atPath: directory + "/cli-run")
                    try check(command + ["--\(option)", value], blame: [], "option --\(option)")
                }
            }
        }
        for _ in 0..<10 * Self.scale {
            try? FileManager.default.removeItem(atPath: directory + "/cli-run")
            let (command, options) = rng.pick(commands)
            let args = options.flatMap { option in
                ["--\(option)", rng.pick(values.filter { usable(command[0], option, $0) })]
            }
            try check(command + args, blame: [], "options")
        }
    }

    // MARK: - Formats

    func testMutatedConfigs() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 1)
        let bases = [Self.config(data: Self.synthetic),
                     Self.config(data: Self.synthetic.replacingOccurrences(of: "[1, 6, 6]", with: "[1, 8, 8]"),
                                 model: Self.wideModel)]
        for i in 0..<60 * Self.scale {
            let numbers = Mutate.extremeNumbers.filter { $0 != "65536" }
            let path = write("config-\(i % 4).json", Mutate.json(bases[i / 2 % 2], &rng, numbers: numbers))
            try? FileManager.default.removeItem(atPath: directory + "/config-run")
            // One epoch whatever the file says: the file's own count is still checked.
            let command = i % 2 == 0 ? ["summarize", path]
                : ["train", path, "--out", directory + "/config-run", "--epochs", "1"]
            try check(command, blame: [path], "config \(i)")
        }
    }

    func testMutatedCheckpoints() throws {
        let (config, run) = try trainedRun()
        var rng = FuzzRandom(seed: Self.seed &+ 2)
        let weights = [UInt8](FileManager.default.contents(atPath: run + "/last.safetensors")!)
        let state = [UInt8](FileManager.default.contents(atPath: run + "/last.state.safetensors")!)
        for i in 0..<40 * Self.scale {
            let path = write("weights.safetensors", mutateSafeTensors(weights, &rng))
            try check(["eval", config, "--checkpoint", path], blame: [path], "weights \(i)")
        }
        for i in 0..<40 * Self.scale {
            let copy = directory + "/resume"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: run, toPath: copy)
            let path = copy + "/last.state.safetensors"
            FileManager.default.createFile(atPath: path, contents: Data(mutateSafeTensors(state, &rng)))
            try check(["train", config, "--resume", copy, "--epochs", "3"], blame: [path, copy], "state \(i)")
        }
    }

    /// The header length, the header's JSON (numbers, and the progress record inside the
    /// metadata), or the bytes.
    private func mutateSafeTensors(_ file: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        let length = Int(file[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = String(decoding: file[8..<8 + length], as: UTF8.self)
        let data = Array(file[(8 + length)...])
        switch rng.below(4) {
        case 0:
            var out = file
            let value = rng.pick([UInt64(0), 1, UInt64(length) - 1, UInt64(length) + 1, UInt64.max, 1 << 40])
            for k in 0..<8 { out[k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
            return out
        case 1, 2:
            // The progress record is JSON inside a JSON string: its numbers are escaped the same.
            let mutated = Mutate.json(header, &rng)
            var size = UInt64(mutated.count).littleEndian
            return withUnsafeBytes(of: &size) { Array($0) } + mutated + data
        default:
            return Mutate.bytes(file, &rng)
        }
    }

    func testMutatedIDXFiles() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 3)
        let images = Self.idxHeader([20, 6, 6]) + (0..<720).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let labels = Self.idxHeader([20]) + (0..<20).map { UInt8($0 % 3) }
        for i in 0..<40 * Self.scale {
            var (img, lab) = (images, labels)
            switch rng.below(4) {
            case 0: img = Mutate.field(img, offset: 4, index: rng.below(3), &rng)
            case 1: lab = Mutate.field(lab, offset: 0, index: rng.below(2), &rng)
            case 2: img = Mutate.bytes(img, &rng)
            default: lab = Mutate.bytes(lab, &rng)
            }
            var imgPath = write("images.idx", img), labPath = write("labels.idx", lab)
            if i % 3 == 0 { (imgPath, labPath) = (try gzip(imgPath), try gzip(labPath)) }
            let config = write("idx.json", Self.config(data: """
                "train": {"type": "idx", "images": "\(imgPath)", "labels": "\(labPath)"}
                """))
            try? FileManager.default.removeItem(atPath: directory + "/idx-run")
            try check(["train", config, "--out", directory + "/idx-run"], blame: [imgPath, labPath, config], "idx \(i)")
        }
    }

    /// A gzip file declaring 60,000 images of 28x28 whose stream inflates far beyond them stops
    /// at the declared size; one declaring 2³² − 1 images is refused before inflating.
    func testGzipBombsStopAtTheDeclaredSize() throws {
        let labels = write("bomb-labels.idx", Self.idxHeader([60_000]) + [UInt8](repeating: 0, count: 60_000))
        for (name, dims) in [("bomb", [60_000, 28, 28]), ("huge", [0xFFFF_FFFF, 28, 28])] {
            let path = directory + "/\(name).idx"
            FileManager.default.createFile(atPath: path, contents: Data(Self.idxHeader(dims)))
            let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            let zeros = Data(count: 1 << 20)
            for _ in 0..<200 { handle.write(zeros) }
            try handle.close()
            let gz = try gzip(path)
            let config = write("bomb.json", Self.config(data: """
                "train": {"type": "idx", "images": "\(gz)", "labels": "\(labels)"}
                """, model: Self.model.replacingOccurrences(of: "[1, 6, 6]", with: "[1, 28, 28]")))
            try check(["train", config, "--out", directory + "/bomb-run"], blame: [gz], name)
        }
    }

    func testMutatedCIFARAndText() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 4)
        let record = 3073
        let cifar = (0..<12 * record).map { UInt8(truncatingIfNeeded: $0 % record == 0 ? $0 % 10 : $0 &* 31) }
        let cifarModel = """
            {"name": "c", "input": [3, 32, 32], "layers": [{"type": "global_avgpool"}, {"type": "dense", "units": 10}]}
            """
        for i in 0..<20 * Self.scale {
            let path = write("batch.bin", Mutate.bytes(cifar, &rng))
            let config = write("cifar.json", Self.config(data: """
                "train": {"type": "cifar10", "files": ["\(path)"]}
                """, model: cifarModel))
            try? FileManager.default.removeItem(atPath: directory + "/cifar-run")
            try check(["train", config, "--out", directory + "/cifar-run"], blame: [path, config], "cifar \(i)")
        }
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 20).utf8)
        let textModel = """
            {"name": "t", "input": [8], "layers": [
              {"type": "embedding", "vocabulary": 30, "dim": 4},
              {"type": "gru", "hidden": 6, "return_sequences": true},
              {"type": "dense", "units": 30}]}
            """
        for i in 0..<20 * Self.scale {
            let path = write("corpus.txt", Mutate.bytes(text, &rng))
            let config = write("text.json", Self.config(data: """
                "train": {"type": "text", "file": "\(path)", "sequence_length": 8, "samples": 32}
                """, model: textModel))
            try? FileManager.default.removeItem(atPath: directory + "/text-run")
            try check(["train", config, "--out", directory + "/text-run"], blame: [path, config], "text \(i)")
        }
    }

    // MARK: - Files that are not files

    func testFIFOsDevicesAndDirectoriesAreRefused() throws {
        let (config, run) = try trainedRun()
        let fifo = directory + "/fifo"
        unlink(fifo)
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        for (args, blame) in [(["summarize", fifo], fifo), (["summarize", "/dev/zero"], "/dev/zero"),
                              (["summarize", directory], directory),
                              (["eval", config, "--checkpoint", fifo], fifo),
                              (["eval", config, "--checkpoint", "/dev/zero"], "/dev/zero")] {
            let r = try FuzzRunner.run(args, timeout: 10)
            XCTAssertEqual(r.status, args[0] == "summarize" ? 2 : 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(blame) && r.stderr.contains("not a regular file"), r.stderr)
        }
        // A run whose last checkpoint is a FIFO: resume says so instead of waiting for a writer.
        let copy = directory + "/fifo-run"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        unlink(copy + "/last.safetensors")
        XCTAssertEqual(mkfifo(copy + "/last.safetensors", 0o644), 0)
        let r = try FuzzRunner.run(["train", config, "--resume", copy, "--epochs", "3"], timeout: 10)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("last.safetensors: is a FIFO (named pipe), not a regular file"), r.stderr)
    }
}
