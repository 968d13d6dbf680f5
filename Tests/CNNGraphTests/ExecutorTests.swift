import CNNConfig
import CNNTestSupport
import XCTest
@testable import CNNGraph
import CNNLayers
import CNNCore

/// Whole-graph checks of the executor: finite-difference gradients through forks, a residual
/// block with a projection, a concat, batch norm, pooling and a dense head; partial batches;
/// named parameter views; seeded initialization.
final class ExecutorTests: XCTestCase {
    /// conv → silu → [conv_a, conv_b] → add (a fork), a residual block with a projection shortcut
    /// (its input is read by the body and the shortcut), an inception of two explicit branches
    /// (a concat of a fork), batch norm, global average pooling and a dense head.
    ///
    /// The activations are smooth: with h = 1e-2 a ReLU's kink is crossed by some of the many
    /// pre-activations near zero (batch norm puts them there), which spoils the central
    /// difference for reasons that have nothing to do with the executor.
    static let forkModel = #"""
    {"name": "fork", "input": [3, 8, 8], "layers": [
        {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "silu"},
        {"type": "conv2d", "name": "conv_a", "filters": 4, "kernel": 3, "padding": 1, "inputs": "c1_silu"},
        {"type": "conv2d", "name": "conv_b", "filters": 4, "kernel": 1, "inputs": "c1_silu"},
        {"type": "add", "name": "join", "inputs": ["conv_a", "conv_b"]},
        {"type": "residual", "name": "res", "shortcut": "projection", "activation": "tanh", "body": [
            {"type": "conv2d", "name": "conv1", "filters": 6, "kernel": 3, "stride": 2, "padding": 1, "bias": false},
            {"type": "batchnorm", "name": "bn1"},
            {"type": "tanh", "name": "act1"},
            {"type": "conv2d", "name": "conv2", "filters": 6, "kernel": 3, "padding": 1, "bias": false},
            {"type": "batchnorm", "name": "bn2"}
        ]},
        {"type": "inception", "name": "mix", "branches": [
            [{"type": "conv2d", "name": "p", "filters": 3, "kernel": 1}],
            [{"type": "conv2d", "name": "q", "filters": 2, "kernel": 3, "padding": 1}, {"type": "tanh", "name": "t"}]
        ]},
        {"type": "batchnorm", "name": "bn"},
        {"type": "global_avgpool", "name": "gap"},
        {"type": "dense", "name": "fc", "units": 3}
    ]}
    """#

    private func graph(_ text: String = ExecutorTests.forkModel) throws -> Graph {
        try GraphBuilder.build(model: JSONSource.parse(text, file: "fork.json"), path: "model", file: "fork.json")
    }

    private func random(_ shape: Shape, _ rng: inout RNG, bound: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(bound: bound) }
        return t
    }

    func testGraphHasTheForksItClaims() throws {
        let g = try graph()
        func readers(_ name: String) -> [String] {
            let i = g.nodes.firstIndex { $0.layer.name == name }!
            return g.nodes.filter { $0.inputs.contains(i) }.map(\.layer.name)
        }
        XCTAssertEqual(readers("c1_silu"), ["conv_a", "conv_b"])
        XCTAssertEqual(readers("join"), ["res.conv1", "res.downsample.0"])
        XCTAssertEqual(readers("res_tanh"), ["mix.branch1.p", "mix.branch2.q"])
        XCTAssertEqual(g.node(named: "res.downsample.0")!.layer.outputShape, [6, 4, 4])
        XCTAssertEqual(g.node(named: "res.add")!.inputs.map { g.nodes[$0].layer.name }, ["res.bn2", "res.downsample.1"])
        XCTAssertEqual(g.nodes.map(\.layer.name).suffix(4), ["mix.concat", "bn", "gap", "fc"])
        XCTAssertEqual(g.node(named: "mix.concat")!.layer.outputShape, [5, 4, 4])
        XCTAssertEqual(g.nodes[g.outputs[0]].layer.outputShape, [3])
    }

    func testWholeGraphGradientsMatchFiniteDifferences() throws {
        let g = try graph()
        let (failures, checked) = GraphGradientCheck.check(g, extra: ["c1.weight", "c1.bias", "conv_b.weight"])
        XCTAssertGreaterThan(checked, 300)
        XCTAssertEqual(failures, [], "\(failures.count) of \(checked) elements disagree")
    }

    /// The estimate made before allocating covers what the executor allocates, and an absurd
    /// batch is refused with the figures instead of aborting in an allocation.
    func testMemoryIsCheckedBeforeTheExecutorAllocates() throws {
        let g = try graph()
        let batch = 4, floats = Executor.bytesNeeded(g, maxBatch: batch) / 4
        let parameters = g.parameterCount
        let activations = g.nodes.reduce(0) { $0 + $1.layer.outputShape.count } * batch
        XCTAssertGreaterThanOrEqual(floats, 2 * parameters + 2 * activations + g.inputShape.count * batch)
        XCTAssertLessThan(floats, 2 * parameters + 3 * activations + g.inputShape.count * batch + 100_000)
        XCTAssertNoThrow(try Executor.checkMemory(g, maxBatch: batch, what: "a test"))
        let huge = try graph(#"{"name": "huge", "input": [3, 1000, 1000], "layers": [{"type": "conv2d", "filters": 512, "kernel": 3}]}"#)
        XCTAssertEqual(Executor.bytesNeeded(huge, maxBatch: Int.max), Int.max)
        XCTAssertThrowsError(try Executor.checkMemory(huge, maxBatch: 65_536, what: "training")) { error in
            XCTAssertTrue("\(error)".contains("for training of model huge at batch 65536, but only "), "\(error)")
        }
    }

    /// A SegNet-style encoder-decoder: the unpool receives its pool's argmax (the pool's saved
    /// state) through a state edge, and gradients reach the encoder through it. Max-style layers
    /// are flat between argmax changes, so h is small and the check kink-tolerant.
    func testUnpoolReadsItsPoolThroughAStateEdge() throws {
        let g = try graph(#"""
        {"name": "segnet", "input": [2, 6, 6], "layers": [
            {"type": "conv2d", "name": "enc", "filters": 3, "kernel": 3, "padding": 1, "activation": "tanh"},
            {"type": "maxpool2d", "name": "pool", "kernel": 2},
            {"type": "dropout", "name": "drop", "rate": 0.2},
            {"type": "conv2d", "name": "mid", "filters": 3, "kernel": 1},
            {"type": "max_unpool2d", "name": "unpool", "pool": "pool"},
            {"type": "conv2d", "name": "dec", "filters": 2, "kernel": 3, "padding": 1}
        ]}
        """#)
        let unpool = try XCTUnwrap(g.nodes.firstIndex { $0.layer.name == "unpool" })
        XCTAssertEqual(g.nodes[unpool].stateInputs.map { g.nodes[$0].layer.name }, ["pool"])
        let (failures, checked) = GraphGradientCheck.check(g, step: 1e-3, kinkTolerant: true, extra: ["enc.weight"])
        XCTAssertEqual(failures, [], "\(failures.count) of \(checked) elements disagree")
    }

    /// The same check with every layer assigning into its input gradients (as if a fork's
    /// gradients were overwritten, not summed) must fail: the check really sees forks.
    func testGradientCheckCatchesAssignedForkGradients() throws {
        let g = try graph()
        let assigning = Graph(name: g.name, description: g.description, inputShape: g.inputShape,
                              nodes: g.nodes.map { Node(layer: AssigningLayer($0.layer), inputs: $0.inputs,
                                                        stateInputs: $0.stateInputs,
                                                        blocks: $0.blocks, notes: $0.notes) },
                              outputs: g.outputs, file: g.file)
        let (failures, _) = GraphGradientCheck.check(assigning, extra: ["c1.weight", "c1.bias"])
        XCTAssertTrue(failures.contains { $0.hasPrefix("c1.") }, "\(failures)")
    }

    // MARK: - Batches

    /// Gradient buffers with one writer that overwrites them are never zeroed: a second step on
    /// other data must give what a fresh executor gives, with no stale element left over.
    func testOverwrittenGradientsLeaveNothingStale() throws {
        var rng = RNG(seed: 31)
        let g = try graph()
        let x1 = random(g.inputShape.batched(3), &rng), dy1 = random([3, 3], &rng)
        let x2 = random(g.inputShape.batched(3), &rng), dy2 = random([3, 3], &rng)
        func step(_ executor: Executor, _ x: Tensor, _ dy: Tensor) -> [Float] {
            var r = RNG(seed: 32)
            executor.zeroGradients()
            executor.forward(x, training: true, rng: &r)
            executor.backward(x, outputGradients: [dy], rng: &r)
            return executor.gradients.array
        }
        let reused = Executor(graph: g, maxBatch: 3, seed: 6)
        _ = step(reused, x1, dy1)
        let fresh = Executor(graph: try graph(), maxBatch: 3, seed: 6)
        XCTAssertEqual(step(reused, x2, dy2), step(fresh, x2, dy2))
        // Batch norms write their input gradients; stride-1 direct convolutions too (AVX-512).
        XCTAssertEqual(reused.overwritingNodes,
                       CPUFeatures.avx512Kernels ? ["res.bn1", "res.conv2", "res.bn2", "res.downsample.1", "bn"]
                                                   : ["res.bn1", "res.bn2", "res.downsample.1", "bn"])
    }

    func testPartialBatchMatchesFullBatchInInference() throws {
        let g = try graph()
        let executor = Executor(graph: g, maxBatch: 4, seed: 9)
        var rng = RNG(seed: 21)
        let x = random(g.inputShape.batched(4), &rng)
        let per = g.inputShape.count
        // Change the running statistics away from their initial values first.
        var train = RNG(seed: 1)
        executor.forward(x, training: true, rng: &train)
        executor.forward(x, training: true, rng: &train)

        var none = RNG(seed: 2)
        let full = executor.forward(x, training: false, rng: &none)[0].array
        XCTAssertEqual(full.count, 12)

        for (start, n) in [(2, 1), (1, 3), (0, 2)] {
            let part = Tensor(shape: g.inputShape.batched(n))
            part.data.update(from: x.data + start * per, count: n * per)
            let y = executor.forward(part, training: false, rng: &none)[0]
            XCTAssertEqual(y.shape, [n, 3])
            for i in 0..<y.count {
                XCTAssertEqual(y.data[i], full[start * 3 + i], accuracy: 1e-5 * max(1, abs(full[start * 3 + i])),
                               "batch \(n) from \(start), element \(i)")
            }
        }
        // Back to the full batch: the same outputs as before.
        let again = executor.forward(x, training: false, rng: &none)[0].array
        XCTAssertEqual(again, full)
    }

    func testPartialBatchTrainingStep() throws {
        let g = try graph()
        let executor = Executor(graph: g, maxBatch: 4, seed: 9)
        var rng = RNG(seed: 4)
        let x = random(g.inputShape.batched(3), &rng)
        let dy = random([3, 3], &rng)
        executor.zeroGradients()
        let y = executor.forward(x, training: true, rng: &rng)[0]
        XCTAssertEqual(y.shape, [3, 3])
        executor.backward(x, outputGradients: [dy], rng: &rng)
        let grads = executor.gradients.array
        XCTAssertTrue(grads.allSatisfy { $0.isFinite })
        XCTAssertGreaterThan(grads.filter { $0 != 0 }.count, grads.count / 2)
        // Backward adds: a second backward doubles the gradients.
        executor.backward(x, outputGradients: [dy], rng: &rng)
        let twice = executor.gradients.array
        for i in stride(from: 0, to: grads.count, by: 7) {
            XCTAssertEqual(twice[i], 2 * grads[i], accuracy: 1e-5 * max(1, abs(grads[i])))
        }
        executor.zeroGradients()
        XCTAssertTrue(executor.gradients.array.allSatisfy { $0 == 0 })
    }

    /// The executor copies the input, so the caller may reuse its buffer before backward.
    func testBackwardUsesTheInputOfTheForwardPass() throws {
        var rng = RNG(seed: 5)
        let x = random(try graph().inputShape.batched(2), &rng), dy = random([2, 3], &rng)
        func gradients(overwriteInput: Bool) throws -> [Float] {
            let executor = Executor(graph: try graph(), maxBatch: 2, seed: 3)
            let input = Tensor(shape: x.shape)
            input.data.update(from: x.data, count: x.count)
            var r = RNG(seed: 6)
            executor.forward(input, training: true, rng: &r)
            if overwriteInput { input.fill(7) }
            executor.backward(input, outputGradients: [dy], rng: &r)
            return executor.gradients.array
        }
        XCTAssertEqual(try gradients(overwriteInput: true), try gradients(overwriteInput: false))
    }

    func testProfileTimesEveryNodeWithoutChangingResults() throws {
        let g = try graph(), plain = Executor(graph: try graph(), maxBatch: 2, seed: 3)
        let profiled = Executor(graph: g, maxBatch: 2, seed: 3)
        let profile = ExecutionProfile(nodeCount: g.nodes.count)
        profiled.profile = profile
        var rng = RNG(seed: 8)
        let x = random(g.inputShape.batched(2), &rng), dy = random([2, 3], &rng)
        for executor in [plain, profiled] {
            var r = RNG(seed: 9)
            executor.forward(x, training: true, rng: &r)
            executor.backward(x, outputGradients: [dy], rng: &r)
            executor.forward(x, training: false, rng: &r)
        }
        XCTAssertEqual(profiled.gradients.array, plain.gradients.array)
        XCTAssertEqual([profile.forwardPasses, profile.backwardPasses], [2, 1])
        // Fused activations run inside the layer before them: no time of their own either way.
        let fused = Set(profiled.fusedActivations)
        XCTAssertEqual(fused, ["res.act1", "res_tanh", "mix.branch2.t"])
        for (node, (forward, backward)) in zip(g.nodes, zip(profile.forwardSeconds, profile.backwardSeconds)) {
            XCTAssertEqual(forward > 0, !fused.contains(node.layer.name), node.layer.name)
            XCTAssertEqual(backward > 0, !fused.contains(node.layer.name), node.layer.name)
        }
    }

    /// Inference with each conv → batch norm pair folded equals running the batch norms, after
    /// training steps have moved the weights and running statistics away from their defaults.
    func testFoldedBatchNormsGiveTheSameInference() throws {
        var rng = RNG(seed: 12)
        let x = random(try graph().inputShape.batched(3), &rng), dy = random([3, 3], &rng)
        func inference(folding: Bool) throws -> ([Float], [String]) {
            let executor = Executor(graph: try graph(), maxBatch: 3, seed: 5)
            var r = RNG(seed: 13)
            for _ in 0..<3 {
                executor.zeroGradients()
                executor.forward(x, training: true, rng: &r)
                executor.backward(x, outputGradients: [dy], rng: &r)
                for i in 0..<executor.parameters.count { executor.parameters.data[i] -= 0.1 * executor.gradients.data[i] }
            }
            executor.foldsAffines = folding
            return (executor.forward(x, training: false, rng: &r)[0].array, executor.foldedAffines)
        }
        let (folded, names) = try inference(folding: true), (plain, _) = try inference(folding: false)
        XCTAssertTrue(names.contains("res.bn1") && names.contains("res.bn2"), "\(names)")
        XCTAssertFalse(names.contains("bn"), "the batch norm after a concat has no convolution to fold into")
        for (a, b) in zip(folded, plain) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
    }

    /// Every activation kind that fuses (relu after conv, batch norm, add and dense; relu6 and
    /// sigmoid; batch norm back-propagates through its relu itself) and one that must not (silu reads its input; the relu after `mid` reads a forked
    /// value): fused and unfused executors give the same outputs, parameter gradients and
    /// inference, and the fused ones share their producer's buffers.
    static let reluModel = #"""
    {"name": "relus", "input": [2, 6, 6], "layers": [
        {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
        {"type": "batchnorm", "name": "bn1", "activation": "relu"},
        {"type": "conv2d", "name": "c2", "filters": 4, "kernel": 3, "padding": 1, "bias": false, "inputs": ["c1_relu"]},
        {"type": "batchnorm", "name": "bn2"},
        {"type": "relu6", "name": "r2"},
        {"type": "add", "name": "mid", "inputs": ["bn1_relu", "r2"], "activation": "relu"},
        {"type": "relu", "name": "fork_reader", "inputs": ["c2"]},
        {"type": "add", "name": "join", "inputs": ["mid_relu", "fork_reader"], "activation": "silu"},
        {"type": "conv2d", "name": "c3", "filters": 3, "kernel": 3, "stride": 2, "padding": 1, "activation": "sigmoid"},
        {"type": "flatten", "name": "flat"},
        {"type": "dense", "name": "fc1", "units": 5, "activation": "relu"},
        {"type": "dense", "name": "fc2", "units": 3}
    ]}
    """#

    func testFusedActivationsGiveTheSameResults() throws {
        var rng = RNG(seed: 21)
        let g = try graph(Self.reluModel)
        let x = random(g.inputShape.batched(3), &rng), dy = random([3, 3], &rng)
        func run(fusing: Bool) throws -> (train: [Float], gradients: [Float], infer: [Float], fused: [String]) {
            let executor = Executor(graph: try graph(Self.reluModel), maxBatch: 3, seed: 4, fusesActivations: fusing)
            // A shift, so that the relu's mask after bn1 depends on it.
            let shift = try XCTUnwrap(executor.parameter(named: "bn1.bias"))
            for (c, v) in [0.3, -0.2, 0.1, -0.4].enumerated() { shift.data[c] = Float(v) }
            var r = RNG(seed: 22)
            let train = executor.forward(x, training: true, rng: &r)[0].array
            executor.backward(x, outputGradients: [dy], rng: &r)
            let gradients = executor.gradients.array
            for i in 0..<executor.parameters.count { executor.parameters.data[i] -= 0.1 * gradients[i] }
            return (train, gradients, executor.forward(x, training: false, rng: &r)[0].array, executor.fusedActivations)
        }
        let fused = try run(fusing: true), plain = try run(fusing: false)
        XCTAssertEqual(fused.fused, ["c1_relu", "bn1_relu", "r2", "mid_relu", "c3_sigmoid", "fc1_relu"])
        XCTAssertEqual(plain.fused, [])
        XCTAssertEqual(fused.train, plain.train)
        XCTAssertEqual(fused.gradients, plain.gradients)
        XCTAssertTrue(fused.gradients.contains { $0 != 0 })
        for (a, b) in zip(fused.infer, plain.infer) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }

    // MARK: - Parameters

    func testParameterNamedReturnsTheArenaView() throws {
        let g = try graph()
        let executor = Executor(graph: g, maxBatch: 2, seed: 1)
        XCTAssertEqual(g.parameters.first?.name, "c1.weight")
        XCTAssertEqual(executor.parameterOffsets.count, g.parameters.count)
        XCTAssertEqual(executor.parameters.count, g.parameters.reduce(0) { $0 + $1.spec.shape.count })

        let w = try XCTUnwrap(executor.parameter(named: "c1.weight"))
        XCTAssertEqual(w.shape, [4, 3, 3, 3])
        XCTAssertEqual(w.data, executor.parameters.data)
        let bound = 1 / Float(27).squareRoot()
        XCTAssertTrue(w.array.allSatisfy { abs($0) <= bound })
        XCTAssertEqual(Set(w.array).count, w.count)

        let b = try XCTUnwrap(executor.parameter(named: "c1.bias"))
        XCTAssertEqual(b.shape, [4])
        XCTAssertEqual(b.data, executor.parameters.data + 108)

        let k = g.parameters.firstIndex { $0.name == "res.downsample.0.weight" }!
        let d = try XCTUnwrap(executor.parameter(named: "res.downsample.0.weight"))
        XCTAssertEqual(d.shape, [6, 4, 1, 1])
        XCTAssertEqual(d.data, executor.parameters.data + executor.parameterOffsets[k])

        XCTAssertEqual(executor.parameter(named: "bn.weight")?.array, [Float](repeating: 1, count: 5))
        XCTAssertEqual(executor.parameter(named: "bn.running_var")?.array, [Float](repeating: 1, count: 5))
        XCTAssertEqual(executor.parameter(named: "bn.running_mean")?.array, [Float](repeating: 0, count: 5))
        XCTAssertEqual(executor.parameter(named: "fc.weight")?.shape, [3, 5])
        XCTAssertNil(executor.parameter(named: "c1"))
        XCTAssertNil(executor.parameter(named: "c9.weight"))

        // The layers read the arena: writing through the view changes the output.
        var rng = RNG(seed: 3)
        let x = random(g.inputShape.batched(2), &rng)
        let before = executor.forward(x, training: false, rng: &rng)[0].array
        w.fill(0)
        b.fill(0)
        let after = executor.forward(x, training: false, rng: &rng)[0].array
        XCTAssertNotEqual(before, after)
        XCTAssertTrue(executor.parameters.array.prefix(112).allSatisfy { $0 == 0 })
    }

    func testSeedsDecideInitialization() throws {
        let g1 = try graph(), g2 = try graph(), g3 = try graph()
        let a = Executor(graph: g1, maxBatch: 1, seed: 42).parameters.array
        let b = Executor(graph: g2, maxBatch: 1, seed: 42).parameters.array
        let c = Executor(graph: g3, maxBatch: 1, seed: 43).parameters.array
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        // Only the random initializers differ; constants (batch norm) are the same.
        let differing = zip(a, c).filter { $0 != $1 }.count
        XCTAssertGreaterThan(differing, a.count / 2)

        // Re-initializing with the first seed restores the first values.
        let e = Executor(graph: try graph(), maxBatch: 1, seed: 43)
        e.initializeParameters(seed: 42)
        XCTAssertEqual(e.parameters.array, a)
    }
}

/// Kernel options and the worker pool reach layers through the build and the execution context,
/// not through process-wide switches: executors with other settings run side by side in one
/// process and agree.
final class ExecutionSettingsTests: XCTestCase {
    static let model = #"""
    {"name": "k", "input": [16, 8, 8], "layers": [
        {"type": "conv2d", "name": "c1", "filters": 16, "kernel": 3, "padding": 1, "activation": "tanh"},
        {"type": "conv2d", "name": "c2", "filters": 8, "kernel": 3, "stride": 2, "padding": 1},
        {"type": "flatten"}, {"type": "dense", "name": "fc", "units": 4}
    ]}
    """#

    /// One training step of each executor on the same seeded batch of 9: outputs and gradients.
    private func step(_ executors: [Executor]) -> [(y: [Float], gradients: [Float])] {
        var rng = RNG(seed: 5)
        let x = GraphGradientCheck.random(executors[0].graph.inputShape.batched(9), &rng)
        let dy = GraphGradientCheck.random([9, 4], &rng)
        return executors.map { executor in
            var run = RNG(seed: 1)
            let y = executor.forward(x, training: true, rng: &run)[0].array
            executor.backward(x, outputGradients: [dy], rng: &run)
            return (y, executor.gradients.array)
        }
    }

    func testGraphsWithOtherKernelsAgreeInOneProcess() throws {
        let plain = KernelOptions(avx512: false, winograd: false)
        let graphs = try [KernelOptions.environment, plain].map {
            try GraphBuilder.build(model: JSONSource.parse(Self.model, file: "k.json"), file: "k.json", kernels: $0)
        }
        func algorithm(_ g: Graph, _ name: String) -> String? {
            (g.node(named: name)?.layer as? any AlgorithmChoosing)?.algorithmName(batch: 9)
        }
        XCTAssertEqual(algorithm(graphs[1], "c1"), "lowered")
        XCTAssertEqual(algorithm(graphs[1], "c2"), "lowered")
        XCTAssertEqual(algorithm(graphs[0], "c1"), WinogradPlan.enabled ? "winograd"
                       : CPUFeatures.avx512Kernels ? "direct" : "lowered")
        let results = step(graphs.map { Executor(graph: $0, maxBatch: 9, seed: 3) })
        assertClose(results[0].y, results[1].y, within: .relativeToLargest(1e-5), "outputs")
        assertClose(results[0].gradients, results[1].gradients, within: .relativeToLargest(1e-4), "gradients")
    }

    /// Two executors, each on a pool of its own, of two parts and of one: the same results, and
    /// the two-part executor's layers split their work on its pool, not on the shared one.
    func testExecutorsWithTheirOwnPools() throws {
        let (double, single) = (WorkerPool(), WorkerPool())
        double.configure(threads: 2)
        single.configure(threads: 1)
        let executors = try [double, single].map { pool in
            Executor(graph: try GraphBuilder.build(model: JSONSource.parse(Self.model, file: "k.json"), file: "k.json"),
                     maxBatch: 9, seed: 3, pool: pool)
        }
        XCTAssertEqual(executors.map { $0.pool.parts }, [2, 1])
        let (ownBefore, sharedBefore) = (double.jobsHandedOut, WorkerPool.shared.jobsHandedOut)
        let results = step(executors)
        XCTAssertGreaterThan(double.jobsHandedOut, ownBefore)
        XCTAssertEqual(WorkerPool.shared.jobsHandedOut, sharedBefore)
        assertClose(results[0].y, results[1].y, within: .relativeToLargest(1e-6), "outputs")
        assertClose(results[0].gradients, results[1].gradients, within: .relativeToLargest(1e-5), "gradients")
    }

    /// `output(ofNode:)` is a node's own output when the executor keeps nodes apart (what the
    /// pictures read): a convolution's values before its ReLU, negatives included; fused, the
    /// same buffer holds the ReLU's output.
    func testNodeOutputsKeptApartOrFused() throws {
        let text = #"{"name": "m", "input": [1, 5, 5], "layers": [{"type": "conv2d", "name": "c", "filters": 3, "kernel": 3, "#
            + #""padding": 1, "activation": "relu"}, {"type": "flatten"}]}"#
        var rng = RNG(seed: 2)
        let x = Tensor(shape: [1, 1, 5, 5], values: (0..<25).map { Float($0 % 7) - 3 })
        func convOutput(fused: Bool) throws -> [Float] {
            let g = try buildText(text)
            let executor = Executor(graph: g, maxBatch: 1, seed: 4, fusesActivations: fused)
            executor.forward(x, training: false, rng: &rng)
            return executor.output(ofNode: g.nodes.firstIndex { $0.layer.name == "c" }!, batch: 1).array
        }
        let own = try convOutput(fused: false), fused = try convOutput(fused: true)
        XCTAssertTrue(own.contains { $0 < 0 }, "a convolution's own output has negatives")
        XCTAssertEqual(fused, own.map { max($0, 0) })
    }
}
