import XCTest
import CNNConfig
import CNNLayers
@testable import CNNTraining
import CNNTestSupport

/// The optimizers' first steps against numbers computed by hand from the `torch.optim` update
/// rules, group handling (decay, frozen, running statistics), checkpoint round trips, the
/// `train.optimizer` config, and gradient clipping.
final class OptimizerTests: XCTestCase {
    /// θ₀ = [1, −2, 0.5] and the constant gradient g = [0.5, −1, 2] of most tests.
    static let start: [Float] = [1, -2, 0.5]
    static let gradient: [Float] = [0.5, -1, 2]
    /// One ordinary group over the three elements.
    static let all = [ParameterGroup(name: "w", range: 0..<3, role: .weight, decay: true)]

    /// Runs `steps` steps from `start` (one gradient per step, the last repeated); returns θ
    /// after each step.
    private func run(_ optimizer: any Optimizer, steps: Int, gradients: [[Float]] = [gradient],
                     groups: [ParameterGroup] = all, lr: Float,
                     start: [Float] = start) -> [[Float]] {
        var theta = start, trace: [[Float]] = []
        for k in 0..<steps {
            let g = gradients[min(k, gradients.count - 1)]
            theta.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer { optimizer.step(parameters: p.baseAddress!,
                                                           gradients: $0.baseAddress!,
                                                           groups: groups, lr: lr) }
            }
            trace.append(theta)
        }
        return trace
    }

    func testPlainSGD() {
        // θ ← θ − 0.1·g, three times: θ₃ = θ₀ − 0.3·g = [0.85, −1.7, −0.1].
        let trace = run(SGD(), steps: 3, lr: 0.1)
        assertClose(trace[0], [0.95, -1.9, 0.3], within: .absolute(1e-6))
        assertClose(trace[2], [0.85, -1.7, -0.1], within: .absolute(1e-6))
    }

    func testSGDMomentum() {
        // μ = 0.9, constant g: b₁ = g, b₂ = 0.9·g + g = 1.9·g, b₃ = 0.9·1.9·g + g = 2.71·g;
        // θ₃ = θ₀ − 0.1·(1 + 1.9 + 2.71)·g = θ₀ − 0.561·g = [0.7195, −1.439, −0.622].
        let trace = run(SGD(momentum: 0.9), steps: 3, lr: 0.1)
        assertClose(trace[0], [0.95, -1.9, 0.3], within: .absolute(1e-6))
        assertClose(trace[1], [0.855, -1.71, -0.08], within: .absolute(1e-6))  // θ₀ − 0.29·g
        assertClose(trace[2], [0.7195, -1.439, -0.622], within: .absolute(1e-6))
    }

    func testSGDNesterov() {
        // The update is g + μ·b with the b above: 1.9·g, g + 0.9·1.9·g = 2.71·g,
        // g + 0.9·2.71·g = 3.439·g; θ₃ = θ₀ − 0.1·8.049·g = [0.59755, −1.1951, −1.1098].
        let trace = run(SGD(momentum: 0.9, nesterov: true), steps: 3, lr: 0.1)
        assertClose(trace[0], [0.905, -1.81, 0.12], within: .absolute(1e-6))
        assertClose(trace[2], [0.59755, -1.1951, -1.1098], within: .absolute(1e-6))
    }

    func testSGDWeightDecayOnlyOnDecayingGroups() {
        // λ = 0.1, η = 0.1: θ ← θ − 0.1·(g + 0.1·θ) = 0.99·θ − 0.1·g on the decaying group.
        // θ[0]: 1 → 0.94 → 0.8806 → 0.821794; θ[1]: −2 → −1.88 → −1.7612 → −1.643588.
        // θ[2] does not decay: 0.5 − 0.3·2 = −0.1.
        let groups = [ParameterGroup(name: "w", range: 0..<2, role: .weight, decay: true),
                      ParameterGroup(name: "b", range: 2..<3, role: .bias, decay: false)]
        let trace = run(SGD(weightDecay: 0.1), steps: 3, groups: groups, lr: 0.1)
        assertClose(trace[0], [0.94, -1.88, 0.3], within: .absolute(1e-6))
        assertClose(trace[2], [0.821794, -1.643588, -0.1], within: .absolute(1e-6))
    }

    /// Gradients that change sign and size, so both moments matter.
    static let varying: [[Float]] = [[0.5, -1, 2], [-0.5, 0.5, 1], [0.25, 0, -2]]

    func testAdam() {
        // η = 0.1, β = (0.9, 0.999), ε = 1e-8. Element 0:
        // t=1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; θ = 1 − 0.1·0.5/(0.5 + ε) = 0.9.
        // t=2: m = 0.9·0.05 − 0.1·0.5 = −0.005, v = 0.999·0.00025 + 0.001·0.25 = 0.00049975;
        //      m̂ = −0.005/0.19 = −0.0263158, v̂ = 0.00049975/0.001999 = 0.25;
        //      θ = 0.9 + 0.1·0.0263158/0.5 = 0.9052632.
        // t=3: m = 0.0205, v = 0.00056175025; m̂ = 0.0205/0.271 = 0.0756458,
        //      v̂ = 0.00056175025/0.002997001 = 0.1874375; θ = 0.9052632 − 0.1·0.0756458/0.4329405
        //      = 0.8877906. Elements 1 and 2 the same way (checked in double precision).
        let trace = run(Adam(), steps: 3, gradients: Self.varying, lr: 0.1)
        assertClose(trace[0], [0.9, -1.9, 0.4], within: .absolute(1e-6))
        assertClose(trace[1], [0.9052632, -1.8733663, 0.3067820], within: .absolute(1e-6))
        assertClose(trace[2], [0.8877906, -1.8527784, 0.2957037], within: .absolute(1e-6))
    }

    func testAdamL2AndAdamWDecoupledDecay() {
        let groups = [ParameterGroup(name: "w", range: 0..<2, role: .weight, decay: true),
                      ParameterGroup(name: "b", range: 2..<3, role: .bias, decay: false)]
        // Adam, λ = 0.1 added to the gradient: step 1 of element 0 uses g = 0.5 + 0.1·1 = 0.6,
        // still a unit step after bias correction (θ = 0.9); later steps differ:
        // [0.8866836, −1.8537473] after t=2, [0.8503519, −1.8089293] after t=3.
        let adam = run(Adam(weightDecay: 0.1), steps: 3, gradients: Self.varying,
                       groups: groups, lr: 0.1)
        assertClose(adam[1], [0.8866836, -1.8537473, 0.3067820], within: .absolute(1e-6))
        assertClose(adam[2], [0.8503519, -1.8089293, 0.2957037], within: .absolute(1e-6))
        // AdamW: θ ← θ·(1 − 0.1·0.1) first, then the plain Adam step: 1·0.99 − 0.1 = 0.89,
        // −2·0.99 + 0.1 = −1.88; the bias (no decay) follows plain Adam exactly.
        let adamW = run(Adam(weightDecay: 0.1, decoupled: true), steps: 3,
                        gradients: Self.varying, groups: groups, lr: 0.1)
        assertClose(adamW[0], [0.89, -1.88, 0.4], within: .absolute(1e-6))
        assertClose(adamW[2], [0.8600270, -1.7956327, 0.2957037], within: .absolute(1e-6))
    }

    func testRMSprop() {
        // α = 0.99, η = 0.01, constant g: v_k = c_k·g² with c = 0.01, 0.0199, 0.029701, so each
        // step moves by η·|g|/(√c_k·|g| + ε) ≈ 0.01/√c_k = 0.1, 0.0708881, 0.0580249 against
        // sign(g): θ₃ = θ₀ ∓ 0.228913.
        let trace = run(RMSprop(), steps: 3, lr: 0.01)
        assertClose(trace[0], [0.9, -1.9, 0.4], within: .absolute(1e-5))
        assertClose(trace[2], [0.771087, -1.771087, 0.271087], within: .absolute(1e-5))
        // μ = 0.9: b = 10, 0.9·10 + 7.088812 = 16.088812, 0.9·16.088812 + 5.802491 = 20.282422
        // (in units of sign(g)); θ moves by 0.01·b: total 0.4637123.
        let momentum = run(RMSprop(momentum: 0.9), steps: 3, lr: 0.01)
        assertClose(momentum[1], [0.7391119, -1.7391119, 0.2391119], within: .absolute(1e-5))
        assertClose(momentum[2], [0.5362877, -1.5362877, 0.0362877], within: .absolute(1e-5))
    }

    func testFrozenGroupsAndRunningStatisticsAreNotTouched() throws {
        let groups = [ParameterGroup(name: "w", range: 0..<1, role: .weight, decay: true),
                      ParameterGroup(name: "frozen", range: 1..<2, role: .weight, frozen: true,
                                     decay: true),
                      ParameterGroup(name: "bn.running_mean", range: 2..<3,
                                     role: .runningStatistic, decay: false)]
        for spec in Self.allTypes {
            let trace = run(try spec.make(), steps: 3, groups: groups, lr: 0.1)
            XCTAssertNotEqual(trace[2][0], 1, "\(spec.type)")
            XCTAssertEqual(Array(trace[2][1...]), [-2, 0.5], "\(spec.type)")
        }
    }

    /// One spec per type, with momentum and weight decay so every state array is used.
    static let allTypes = [
        OptimizerSpec(type: .sgd, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01),
        OptimizerSpec(type: .adam, lr: 0.1, weightDecay: 0.01),
        OptimizerSpec(type: .adamw, lr: 0.1),
        OptimizerSpec(type: .rmsprop, lr: 0.01, momentum: 0.5, weightDecay: 0.01),
    ]

    func testStateSaveAndRestoreContinuesBitForBit() throws {
        for spec in Self.allTypes {
            // Two steps, save; a fresh optimizer restores and both take the third step.
            let first = try spec.make()
            let after2 = run(first, steps: 2, gradients: Self.varying, lr: spec.lr)[1]
            let saved = first.stateTensors()
            XCTAssertFalse(saved.isEmpty)
            let uninterrupted = run(first, steps: 1, gradients: [Self.varying[2]], lr: spec.lr,
                                    start: after2)
            let second = try spec.make(parameterCount: 3)
            try second.restore(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.values) }))
            second.stepCount = 2
            let resumed = run(second, steps: 1, gradients: [Self.varying[2]], lr: spec.lr,
                              start: after2)
            XCTAssertEqual(resumed, uninterrupted, "\(spec.type)")
            XCTAssertEqual(first.stepCount, 3)
        }
    }

    func testStateNamesFollowPyTorch() throws {
        XCTAssertEqual(Adam(parameterCount: 3).stateTensors().map(\.name),
                       ["optimizer.exp_avg", "optimizer.exp_avg_sq"])
        XCTAssertEqual(SGD(momentum: 0.9, parameterCount: 3).stateTensors().map(\.name),
                       ["optimizer.momentum_buffer"])
        XCTAssertEqual(SGD().stateTensors().count, 0)
        XCTAssertEqual(RMSprop(parameterCount: 3).stateTensors().map(\.values),
                       [[0, 0, 0]])
    }

    func testStateOfAFreshOptimizerRestores() throws {
        // Made without a parameter count, nothing is allocated yet: empty arrays, which restore
        // as zeros (a checkpoint written before the first step).
        let fresh = Adam().stateTensors()
        XCTAssertEqual(fresh.map(\.name), ["optimizer.exp_avg", "optimizer.exp_avg_sq"])
        XCTAssertEqual(fresh.map(\.values), [[], []])
        let used = Adam(parameterCount: 3)
        _ = run(used, steps: 1, lr: 0.1)
        try used.restore(Dictionary(uniqueKeysWithValues: fresh.map { ($0.name, $0.values) }))
        used.stepCount = 0
        // Equal to a fresh optimizer's first step again: θ₀ − 0.1·sign(g).
        assertClose(run(used, steps: 1, lr: 0.1)[0], [0.9, -1.9, 0.4], within: .absolute(1e-6))
    }

    func testRestoreRejectsMissingOrMisSizedState() {
        let adam = Adam(parameterCount: 3)
        XCTAssertThrowsError(try adam.restore(["optimizer.momentum_buffer": [0, 0, 0]])) {
            XCTAssertEqual("\($0)", "optimizer state (adam): missing tensor \"optimizer.exp_avg\" "
                           + "(needs optimizer.exp_avg, optimizer.exp_avg_sq; the checkpoint has "
                           + "optimizer.momentum_buffer); was it saved with another optimizer?")
        }
        XCTAssertThrowsError(try adam.restore(["optimizer.exp_avg": [0, 0],
                                               "optimizer.exp_avg_sq": [0, 0]])) {
            XCTAssertEqual("\($0)", "optimizer state (adam): has 2 values per tensor, the model 3")
        }
        XCTAssertThrowsError(try adam.restore(["optimizer.exp_avg": [0, 0, 0],
                                               "optimizer.exp_avg_sq": [0, 0]])) {
            XCTAssertEqual("\($0)", "optimizer state (adam): tensors differ in size: "
                           + "optimizer.exp_avg has 3, optimizer.exp_avg_sq has 2")
        }
    }

    // MARK: - Config

    private func spec(_ text: String) throws -> OptimizerSpec {
        let json = try JSONSource.parse(text, file: "run.json")
        return try ConfigDecoder.decode(OptimizerSpec.self, from: json, path: "train.optimizer",
                                        file: "run.json")
    }

    private func assertConfigError(_ text: String, _ message: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try spec(text), file: file, line: line) {
            XCTAssertEqual("\($0)", message, file: file, line: line)
        }
    }

    func testSpecDefaultsArePyTorchs() throws {
        let adamW = try XCTUnwrap(try spec(#"{"type": "adamw", "lr": 0.001}"#).make() as? Adam)
        XCTAssertEqual([adamW.beta1, adamW.beta2, adamW.eps, adamW.weightDecay],
                       [0.9, 0.999, 1e-8, 0.01])
        XCTAssertTrue(adamW.decoupled)
        let adam = try XCTUnwrap(try spec(#"{"type": "adam", "lr": 0.001, "betas": [0.5, 0.9]}"#)
            .make() as? Adam)
        XCTAssertEqual([adam.beta1, adam.beta2, adam.weightDecay], [0.5, 0.9, 0])
        XCTAssertFalse(adam.decoupled)
        let sgd = try XCTUnwrap(try spec(#"""
            {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4}
            """#).make() as? SGD)
        XCTAssertEqual([sgd.momentum, sgd.weightDecay], [0.9, 5e-4])
        XCTAssertTrue(sgd.nesterov)
        let rms = try XCTUnwrap(try spec(#"{"type": "rmsprop", "lr": 0.01}"#).make() as? RMSprop)
        XCTAssertEqual([rms.alpha, rms.eps, rms.momentum], [0.99, 1e-8, 0])
    }

    func testSpecErrorsNameTheKey() {
        assertConfigError(#"{"type": "sgd", "lr": 0.1, "nesterov": true}"#,
                          "run.json: train.optimizer.nesterov: Nesterov momentum needs "
                          + "\"momentum\" > 0 (as in PyTorch)")
        assertConfigError(#"{"type": "sgd", "lr": 0}"#,
                          "run.json: train.optimizer.lr: must be a positive number, got 0.0")
        assertConfigError(#"{"type": "sgd", "lr": 0.1, "betas": [0.9, 0.99]}"#,
                          "run.json: train.optimizer.betas: applies only to adam and adamw, "
                          + "not to \"sgd\"")
        assertConfigError(#"{"type": "adam", "lr": 0.1, "betas": [0.9, 1.0]}"#,
                          "run.json: train.optimizer.betas[1]: must be in [0, 1), got 1.0")
        assertConfigError(#"{"type": "adam", "lr": 0.1, "betas": [0.9]}"#,
                          "run.json: train.optimizer.betas: must be two numbers [beta1, beta2], "
                          + "got 1")
        assertConfigError(#"{"type": "adamm", "lr": 0.1}"#,
                          "run.json: train.optimizer.type: unknown value \"adamm\"; valid: sgd, "
                          + "adam, adamw, rmsprop (did you mean \"adam\"?)")
        assertConfigError(#"{"type": "sgd", "lr": 0.1, "momentun": 0.9}"#,
                          "run.json: train.optimizer.momentun: unknown key \"momentun\"; valid "
                          + "keys: type, lr, momentum, nesterov, betas, eps, weight_decay, alpha "
                          + "(did you mean \"momentum\"?)")
        assertConfigError(#"{"type": "rmsprop", "lr": 0.1, "weight_decay": -1}"#,
                          "run.json: train.optimizer.weight_decay: must be ≥ 0, got -1.0")
    }

    // MARK: - Clipping

    func testClipGlobalNorm() {
        // ‖[3, 4]‖ = 5 > 1: scaled by 1/(5 + 1e-6), PyTorch's coefficient; returns 5.
        var g: [Float] = [3, 4]
        let norm = g.withUnsafeMutableBufferPointer {
            GradientClipping.clipGlobalNorm($0.baseAddress!, count: 2, maxNorm: 1)
        }
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(g[1], 0.8, accuracy: 1e-6)
        XCTAssertLessThan(g[1], 0.8)  // the 1e-6 makes it strictly smaller
        // Below the limit nothing changes.
        var small: [Float] = [0.3, -0.4]
        let n = small.withUnsafeMutableBufferPointer {
            GradientClipping.clipGlobalNorm($0.baseAddress!, count: 2, maxNorm: 1)
        }
        XCTAssertEqual(n, 0.5, accuracy: 1e-7)
        XCTAssertEqual(small, [0.3, -0.4])
    }

    func testClipValue() {
        var g: [Float] = [-3, -0.5, 0, 0.25, 2]
        g.withUnsafeMutableBufferPointer {
            GradientClipping.clipValue($0.baseAddress!, count: 5, limit: 1)
        }
        XCTAssertEqual(g, [-1, -0.5, 0, 0.25, 1])
    }
}
