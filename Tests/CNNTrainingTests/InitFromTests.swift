import CNNConfig
import CNNCore
import CNNGraph
import Foundation
import XCTest

@testable import CNNTraining

/// `init_from` with `strict` and `rename`, PyTorch's `num_batches_tracked` buffers, and the LSTM
/// forget-bias warning.
extension TrainerTests {
    /// A safetensors file written by hand, as PyTorch's `save_file` would: F32 tensors and an
    /// I64 step counter, under `prefix`.
    private func pytorchStyleFile(_ tensors: [String: [Float]], shapes: [String: [Int]], prefix: String,
                                  counter: String) throws -> String {
        var header: [String] = [], data: [UInt8] = []
        for name in tensors.keys.sorted() {
            let values = tensors[name]!
            header.append("\"\(prefix)\(name)\":{\"dtype\":\"F32\",\"shape\":\(shapes[name]!),"
                          + "\"data_offsets\":[\(data.count),\(data.count + 4 * values.count)]}")
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        }
        header.append("\"\(prefix)\(counter)\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[\(data.count),\(data.count + 8)]}")
        withUnsafeBytes(of: Int64(42).littleEndian) { data += $0 }
        let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        let path = out("pytorch.safetensors")
        FileManager.default.createFile(atPath: path, contents: Data(bytes + json + data))
        return path
    }

    func testStrictInitFromWithRenamedPrefixesAndStepCounters() throws {
        let source = try config(train: #""epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1}"#)
        _ = try train(source, TrainOptions(outDirectory: out("source")))
        let file = try SafeTensors.read(out("source") + "/last.safetensors")
        let tensors = try Dictionary(uniqueKeysWithValues: file.names.map { ($0, try file.values(of: $0)) })
        let shapes = Dictionary(uniqueKeysWithValues: file.names.map { ($0, file.shape(of: $0)!) })
        let path = try pytorchStyleFile(tensors, shapes: shapes, prefix: "module.", counter: "bn1.num_batches_tracked")
        // The step counter is skipped; without rename nothing matches, which strict refuses.
        let plain = try config(train: """
            "epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1},
            "init_from": {"file": "\(path)", "strict": true}
            """, name: "plain.json")
        XCTAssertThrowsError(try train(plain, TrainOptions(outDirectory: out("plain")))) {
            XCTAssertTrue("\($0)".contains("does not match model \"tiny\" exactly (init_from.strict): 8 missing: "
                                           + "c1.weight, c1.bias"), "\($0)")
            XCTAssertTrue("\($0)".contains("8 unexpected: module.bn1.bias"), "\($0)")
            XCTAssertTrue("\($0)".hasSuffix("(init_from.rename maps name prefixes)"), "\($0)")
        }
        let renamed = try config(train: """
            "epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1}, "freeze": ["c1"],
            "init_from": {"file": "\(path)", "strict": true, "rename": {"module.": ""}}
            """, name: "renamed.json")
        let (_, log) = try train(renamed, TrainOptions(outDirectory: out("renamed")))
        XCTAssertTrue(log.lines.contains { $0.hasSuffix("loaded 8 of 8 tensors (strict)") }, "\(log.lines)")
        // c1 is frozen: its weights stay the loaded ones.
        XCTAssertEqual(try weights(out("renamed"))["c1.weight"], tensors["c1.weight"])
        // A checkpoint with the counter still loads for eval.
        let executor = Executor(graph: try ConfigFile.load(renamed).buildGraph(), maxBatch: 1)
        let evalFile = try pytorchStyleFile(tensors, shapes: shapes, prefix: "", counter: "bn1.num_batches_tracked")
        XCTAssertNoThrow(try TrainingCheckpoint.loadWeights(evalFile, into: executor))
        XCTAssertThrowsError(try SafeTensors.read(evalFile).values(of: "bn1.num_batches_tracked")) {
            XCTAssertTrue("\($0)".hasSuffix("tensor \"bn1.num_batches_tracked\" is I64; cnnctl reads F32 (float32) "
                                            + "tensors only"), "\($0)")
        }
        // A changed head: strict lists the mis-shaped tensors.
        let twoClasses = try config(classes: 2, train: """
            "epochs": 1, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1},
            "init_from": {"file": "source/last.safetensors", "strict": true}
            """, name: "two.json")
        XCTAssertThrowsError(try train(twoClasses, TrainOptions(outDirectory: out("two")))) {
            XCTAssertTrue("\($0)".contains("2 mis-shaped: out.weight ([3, 36] in the file, [2, 36] in the model), "
                                           + "out.bias ([3] in the file, [2] in the model)"), "\($0)")
        }
    }

    func testLSTMWeightsFromAFileWarnAboutTheForgetBias() throws {
        func graph(_ bias: String) throws -> Graph {
            try GraphBuilder.build(model: try JSONSource.parse("""
                {"name": "l", "input": [4, 3], "layers": [{"type": "lstm", "name": "rnn", "hidden": 5\(bias)},
                 {"type": "dense", "name": "out", "units": 2}]}
                """, file: "m.json"), path: "", file: "m.json")
        }
        let names = Set(try graph("").parameters.map(\.name))
        let warnings = WeightTransfer.forgetBiasWarnings(try graph(""), loaded: names)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].hasPrefix("  warning: rnn adds forget_bias 1.0 to its forget gate"), warnings[0])
        XCTAssertEqual(WeightTransfer.forgetBiasWarnings(try graph(", \"forget_bias\": 0"), loaded: names), [])
        XCTAssertEqual(WeightTransfer.forgetBiasWarnings(try graph(""), loaded: ["out.weight"]), [])
    }
}
