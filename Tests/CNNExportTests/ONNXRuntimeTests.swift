import CNNConfig
import CNNCore
import CNNExport
import CNNGraph
import Foundation
import XCTest

/// Exported models run by the real runtime: `onnx.checker.check_model(full_check=True)` and ONNX
/// Runtime's outputs against cnnctl's own forward pass on the same random weights (batch-norm
/// statistics included) and inputs, within 1e-5 of the largest output (scripts/check-onnx): the
/// differences measured are below 4e-7, and a looser bound (1e-4) let a wrong
/// `count_include_pad` through in the mixed model (4.2e-5).
/// scripts/test installs onnx and onnxruntime into a cached venv and names its python in
/// CNNCTL_ONNX_PYTHON; without it the tests are skipped with a line saying so.
final class ONNXRuntimeTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    private func python() throws -> String {
        guard let python = ProcessInfo.processInfo.environment["CNNCTL_ONNX_PYTHON"],
              FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("ONNX Runtime not available: scripts/test sets CNNCTL_ONNX_PYTHON to a venv with onnx "
                          + "and onnxruntime (pip could not install them, or the tests ran without scripts/test)")
        }
        return python
    }

    /// Exports `graph` with random weights and statistics and checks ONNX Runtime against the
    /// forward pass; returns the relative error.
    @discardableResult
    private func check(_ graph: Graph, batch: Int = 2, tokens: Int? = nil, file: StaticString = #filePath,
                       line: UInt = #line) throws -> Double {
        let python = try python()
        let executor = Executor(graph: graph, maxBatch: batch, seed: 7)
        var rng = RNG(seed: 11)
        for (i, p) in graph.parameters.enumerated() where p.spec.role == .runningStatistic {
            let values = (0..<p.spec.shape.count).map { _ in
                p.spec.name.hasSuffix("var") ? 0.5 + rng.uniform() : rng.uniform(bound: 0.5)
            }
            values.withUnsafeBufferPointer {
                (executor.parameters.data + executor.parameterOffsets[i]).update(from: $0.baseAddress!, count: $0.count)
            }
        }
        let bytes = try ONNXExporter.export(graph, parameter: { name in
            let i = graph.parameters.firstIndex { $0.name == name }!
            let start = executor.parameters.data + executor.parameterOffsets[i]
            return Array(UnsafeBufferPointer(start: start, count: graph.parameters[i].spec.shape.count))
        }, allOutputs: false, producerVersion: "test")
        let x = Tensor(shape: graph.inputShape.batched(batch))
        // Token indices for an embedding, else values in [-1, 1).
        for i in 0..<x.count { x.data[i] = tokens.map { Float(Int(rng.uniform() * Float($0))) } ?? rng.uniform(bound: 1) }
        let y = executor.forward(x, training: false, rng: &rng)[0]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-onnx-\(getpid())-\(graph.name)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/model.onnx", contents: Data(bytes))
        FileManager.default.createFile(atPath: dir + "/x.bin", contents: Data(buffer: UnsafeBufferPointer(start: x.data, count: x.count)))
        FileManager.default.createFile(atPath: dir + "/y.bin", contents: Data(buffer: UnsafeBufferPointer(start: y.data, count: y.count)))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [Self.root + "/scripts/check-onnx", dir + "/model.onnx", dir + "/x.bin", dir + "/y.bin"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(graph.name): \(text)", file: file, line: line)
        let error = text.components(separatedBy: "relative error ").dropFirst().first?
            .split(separator: " ").first.flatMap { Double($0) } ?? .infinity
        print("\(graph.name): ONNX Runtime against cnnctl: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        XCTAssertLessThanOrEqual(error, 1e-5, "\(graph.name): \(text)", file: file, line: line)
        return error
    }

    private func graph(_ path: String) throws -> Graph { try ConfigFile.load(Self.root + "/" + path).buildGraph() }

    private func graph(json: String) throws -> Graph {
        try GraphBuilder.build(model: try JSONSource.parse(json, file: "inline.json"), path: "", file: "inline.json")
    }

    func testShippedConvolutionalModels() throws {
        for path in ["configs/models/lenet5.json", "configs/bench/resnet20.json", "configs/bench/vgg_small.json",
                     "configs/bench/mbconv_se_small.json"] {
            try check(try graph(path))
        }
    }

    /// Inception branches joined by concat, ceil-mode and average pools, a separable
    /// convolution, grouped and dilated convolutions, asymmetric padding, every activation.
    func testInceptionSeparableAndActivations() throws {
        try check(try graph(json: """
            {"name": "mixed", "input": [3, 17, 15], "layers": [
              {"type": "conv2d", "name": "stem", "filters": 8, "kernel": 3, "padding": [0, 1, 1, 0], "activation": "gelu"},
              {"type": "maxpool2d", "name": "pool", "kernel": 3, "stride": 2, "ceil_mode": true},
              {"type": "inception", "name": "mix", "branches": [
                [{"type": "conv2d", "filters": 4, "kernel": 1, "activation": "relu6"}],
                [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 2, "dilation": 2, "activation": "leaky_relu"}],
                [{"type": "avgpool2d", "kernel": 3, "stride": 1, "padding": 1, "count_include_pad": false},
                 {"type": "conv2d", "filters": 4, "kernel": 1, "activation": "hard_swish"}]]},
              {"type": "separable_conv2d", "name": "sep", "filters": 8, "kernel": 3, "padding": 1, "activation": "elu"},
              {"type": "conv2d", "name": "grouped", "filters": 8, "kernel": 3, "groups": 4, "activation": "tanh"},
              {"type": "batchnorm", "name": "bn", "activation": "hard_sigmoid"},
              {"type": "avgpool2d", "name": "avg", "kernel": 2, "ceil_mode": true},
              {"type": "flatten"},
              {"type": "dropout", "rate": 0.3},
              {"type": "dense", "name": "fc", "units": 5, "activation": "sigmoid"},
              {"type": "dense", "name": "out", "units": 3}]}
            """))
    }

    /// ONNX's gate orders, directions, stacking, peepholes, the folded forget bias, Keras' single
    /// bias and the lectures' GRU; the character model of configs/char-lstm.json with its embedding.
    func testRecurrentLayers() throws {
        let layers = [
            ("gru", #"{"type": "gru", "name": "rnn", "hidden": 6, "layers": 2}"#),
            ("gru_lectures", #"{"type": "gru", "name": "rnn", "hidden": 6, "reset_after": false, "bidirectional": true}"#),
            ("lstm", #"{"type": "lstm", "name": "rnn", "hidden": 6, "layers": 2, "forget_bias": 0.5}"#),
            ("bilstm", #"{"type": "lstm", "name": "rnn", "hidden": 6, "bidirectional": true, "return_sequences": true}"#),
            ("peepholes", #"{"type": "lstm", "name": "rnn", "hidden": 6, "peepholes": true, "bidirectional": true}"#),
            ("keras_lstm", #"{"type": "lstm", "name": "rnn", "hidden": 6, "bias": "single", "bidirectional": true}"#),
            ("rnn_relu", #"{"type": "rnn", "name": "rnn", "hidden": 6, "nonlinearity": "relu", "layers": 2}"#),
        ]
        for (name, layer) in layers {
            try check(try graph(json: #"{"name": ""# + name + #"", "input": [5, 4], "layers": ["# + layer
                                + #", {"type": "dense", "name": "out", "units": 3}]}"#))
        }
        try check(try ConfigFile.load(Self.root + "/configs/char-lstm.json").buildGraph(), tokens: 93)
        // A bag of embeddings: the pools over [T, F] as ReduceMean / ReduceMax over time.
        for pool in ["global_avgpool", "global_maxpool"] {
            try check(try graph(json: #"{"name": "bag", "input": [7], "layers": [{"type": "embedding", "name": "embed", "#
                                + #""vocabulary": 11, "dim": 4}, {"type": ""# + pool + #"", "name": "pool"}, "#
                                + #"{"type": "dense", "name": "out", "units": 3}]}"#), tokens: 11)
        }
    }

    /// Decoders and normalizations: transposed convolutions, both upsampling modes, layer and
    /// group norm (with and without the affine), channel layer norm, LRN, layer scale, a constant
    /// scale, softmax.
    func testDecodersAndNormalizations() throws {
        try check(try graph(json: """
            {"name": "decoder", "input": [3, 9, 8], "layers": [
              {"type": "conv2d", "name": "c", "filters": 6, "kernel": 3, "stride": 2, "padding": 1},
              {"type": "lrn", "name": "lrn", "size": 3, "alpha": 0.1, "beta": 0.75, "k": 2},
              {"type": "conv_transpose2d", "name": "t", "filters": 4, "kernel": 3, "stride": 2, "padding": 1,
               "output_padding": 1},
              {"type": "groupnorm", "name": "gn", "groups": 2},
              {"type": "upsample", "name": "up", "scale": 2, "mode": "bilinear"},
              {"type": "groupnorm", "name": "gn2", "groups": 4, "affine": false},
              {"type": "upsample", "name": "near", "scale": [1, 2]},
              {"type": "layernorm", "name": "ln", "normalized_dims": 2},
              {"type": "layernorm2d", "name": "ln2d"},
              {"type": "layer_scale", "name": "ls", "init": 0.7},
              {"type": "scale", "name": "k", "factor": 0.17},
              {"type": "flatten"},
              {"type": "dense", "name": "out", "units": 5},
              {"type": "softmax", "name": "p"}]}
            """))
    }

    /// SegNet's unpooling with the pool's indices (a second MaxPool output), reflect and
    /// replicate padding.
    func testUnpoolingAndPaddingModes() throws {
        try check(try graph(json: """
            {"name": "segnet", "input": [2, 9, 10], "layers": [
              {"type": "conv2d", "name": "c", "filters": 4, "kernel": 3, "padding": 1, "padding_mode": "reflect"},
              {"type": "maxpool2d", "name": "pool", "kernel": 2, "stride": 2},
              {"type": "conv2d", "name": "mid", "filters": 4, "kernel": [3, 5], "padding": [1, 2], "padding_mode": "replicate"},
              {"type": "max_unpool2d", "name": "unpool", "pool": "pool"},
              {"type": "conv2d", "name": "out", "filters": 3, "kernel": 1}]}
            """))
    }

    func testUnsupportedLayersAreNamed() throws {
        let graph = try graph(json: """
            {"name": "circular", "input": [2, 4, 4], "layers": [{"type": "conv2d", "name": "c", "filters": 2,
             "kernel": 3, "padding": 1, "padding_mode": "circular"}]}
            """)
        XCTAssertThrowsError(try ONNXExporter.export(graph, parameter: { _ in [] }, allOutputs: false,
                                                     producerVersion: "test")) {
            XCTAssertEqual("\($0)", "c: cannot be exported to ONNX: padding_mode circular has no ONNX Pad mode in "
                           + "opset 17 (reflect and replicate have)")
        }
        for (layer, message) in [(#"{"type": "lstm", "name": "r", "hidden": 3}"#,
                                  "stopping at sequence lengths (after embed's padding_index)"),
                                 (#"{"type": "global_avgpool", "name": "r"}"#,
                                  "pooling each sample's real steps (after embed's padding_index)")] {
            let padded = try self.graph(json: #"{"name": "padded", "input": [5], "layers": [{"type": "embedding", "#
                                        + #""name": "embed", "vocabulary": 9, "dim": 4, "padding_index": 0}, "# + layer + "]}")
            XCTAssertThrowsError(try ONNXExporter.export(padded, parameter: { _ in [] }, allOutputs: false,
                                                         producerVersion: "test")) {
                XCTAssertEqual("\($0)", "r: cannot be exported to ONNX: \(message) is not supported by the exporter yet")
            }
        }
    }

    /// Every shipped model but the three whose size is all in layer types the others have
    /// (AlexNet, VGG-16, VGG-19) exports; the 32x32 ones run in ONNX Runtime too: LeNet-5's connection
    /// table as a masked dense convolution, ResNet-20's option-A shortcuts (pad_channels).
    func testShippedModelsExport() throws {
        let models = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/configs/models")
            .filter { $0.hasSuffix(".json") && !["alexnet.json", "vgg16.json", "vgg19.json"].contains($0) }.sorted()
        XCTAssertGreaterThanOrEqual(models.count, 11)
        for model in models {
            let graph = try graph("configs/models/" + model)
            let bytes = try ONNXExporter.export(graph, parameter: { name in
                [Float](repeating: 0, count: graph.parameters.first { $0.name == name }!.spec.shape.count)
            }, allOutputs: true, producerVersion: "test")
            XCTAssertGreaterThan(bytes.count, 4 * graph.parameters.filter { $0.spec.isTrainable }.count, model)
        }
        // Dense blocks (their concatenation exported as the Concat it never stores), templates,
        // layer norms over channels and drop paths.
        for model in ["lenet5_classic.json", "resnet20_cifar.json", "densenet_bc40_fashion.json", "convnext_fashion.json"] {
            try check(try graph("configs/models/" + model))
        }
    }
}
