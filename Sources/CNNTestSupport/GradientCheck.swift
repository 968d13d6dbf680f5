import CNNConfig
import CNNCore
import CNNLayers

/// Finite-difference gradient checking after Caffe's GradientChecker.
///
/// Objective `L = Σ r ⊙ y` with a seeded random `r`, accumulated in Double; every input and every
/// trainable parameter element (up to `maxElements` per tensor, evenly spread) is perturbed by
/// ±h and `(L₊ − L₋)/2h` compared with the analytic gradient: pass when
/// `|a − n| ≤ tol · max(|a|, |n|, 1)`. Gradients are pre-filled with a constant before backward
/// and it is subtracted afterwards, which catches `=` where `+=` is required.
public enum GradientCheck {
    /// Builds a registered layer from its example (or the given config and inputs).
    public static func build(_ registration: LayerRegistration, config: JSONValue? = nil,
                             inputs: [Shape]? = nil, name: String = "layer") throws -> any Layer {
        var context = LayerBuildContext(name: name, inputShapes: inputs ?? registration.example.inputs,
                                        config: config ?? registration.example.config,
                                        path: name, file: nil)
        return try registration.build(&context)
    }

    /// The description of the error building throws, or nil when the layer builds (for tests of
    /// config errors: the message names the key path and what is valid).
    public static func buildError(_ registration: LayerRegistration, config: JSONValue, inputs: [Shape]) -> String? {
        do {
            _ = try build(registration, config: config, inputs: inputs)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Checks a registration's example; returns the failures (empty means pass).
    public static func check(_ registration: LayerRegistration, batch: Int = 2) throws -> [String] {
        let e = registration.example
        return check(try build(registration), batch: batch, indexInputs: e.indexInputs, spacedInputs: e.spacedInputs)
    }

    /// Checks one layer; `stateInputs` is the saved state of the nodes it reads through state
    /// edges (an unpool's pool, after a forward of `batch` samples).
    public static func check(_ layer: any Layer, batch: Int = 2, seed: UInt64 = 7,
                             indexInputs: Int? = nil, spacedInputs: Bool = false,
                             training: Bool = true, tolerance: Double = 5e-3, step: Float = 1e-2,
                             maxElements: Int = 600, stateInputs: [SavedState] = []) -> [String] {
        var rng = RNG(seed: seed)
        let fixture = Fixture(layer: layer, batch: batch, rng: &rng, indexInputs: indexInputs,
                              spacedInputs: spacedInputs, training: training, stateInputs: stateInputs)
        var failures: [String] = []

        // Analytic gradients, pre-filled with a constant to catch assignment instead of addition.
        let prefill: Float = 0.25
        let inputGrads: [Tensor?] = fixture.inputs.map { indexInputs == nil ? Tensor(shape: $0.shape) : nil }
        inputGrads.forEach { $0?.fill(prefill) }
        fixture.gradients.forEach { $0.fill(prefill) }
        let output = fixture.forward()
        let dy = Tensor(shape: output.shape, values: fixture.r)
        var context = fixture.context()
        layer.backward(inputs: fixture.inputs, output: output, outputGradient: dy,
                       inputGradients: inputGrads, context: &context)

        func compare(_ label: String, _ values: Tensor, _ analytic: Tensor) {
            let stride = max(1, values.count / maxElements)
            for i in Swift.stride(from: 0, to: values.count, by: stride) {
                let saved = values.data[i]
                values.data[i] = saved + step
                let plus = fixture.loss()
                values.data[i] = saved - step
                let minus = fixture.loss()
                values.data[i] = saved
                let numeric = (plus - minus) / (2 * Double(step))
                let a = Double(analytic.data[i] - prefill)
                if abs(a - numeric) > tolerance * max(abs(a), abs(numeric), 1) {
                    failures.append("\(layer.name) \(label)[\(i)]: analytic \(a), numeric \(numeric)")
                    if failures.count > 20 { return }
                }
            }
        }
        for (k, x) in fixture.inputs.enumerated() {
            if let g = inputGrads[k] { compare("input\(k)", x, g) }
        }
        for (k, spec) in layer.parameterSpecs.enumerated() where spec.isTrainable {
            compare(spec.name, fixture.parameters[k], fixture.gradients[k])
        }
        return failures
    }

    /// Runs forward once on the given batch and returns the output; `saved` (memory of its own
    /// by default) receives the layer's saved state, for a backward to follow.
    public static func forward(_ layer: any Layer, inputs: [Tensor], parameters: [Tensor],
                               training: Bool = false, seed: UInt64 = 1, saved: SavedState? = nil,
                               stateInputs: [SavedState] = []) -> Tensor {
        let n = inputs[0].shape[0]
        let grads = parameters.map { Tensor(shape: $0.shape) }
        layer.bind(parameters: parameters, gradients: grads)
        let workspace = Tensor(shape: [max(layer.workspaceSize(batch: n), 1)])
        var context = ExecutionContext(isTraining: training, rng: RNG(seed: seed),
                                       workspace: workspace.data, workspaceCount: workspace.count)
        context.saved = saved ?? SavedState(allocating: layer.savedStateFloats(batch: n))
        context.stateInputs = stateInputs
        let output = Tensor(shape: layer.outputShape.batched(n))
        layer.forward(inputs: inputs, output: output, context: &context)
        return output
    }
}

/// Random inputs, parameters and objective weights for one layer, and a reproducible forward.
private final class Fixture {
    let layer: any Layer
    let inputs: [Tensor]
    let parameters: [Tensor]
    let gradients: [Tensor]
    let r: [Float]
    let workspace: Tensor
    /// The layer's saved state, shared by every forward and the backward.
    let saved: SavedState, stateInputs: [SavedState]
    let training: Bool
    let batch: Int

    init(layer: any Layer, batch: Int, rng: inout RNG, indexInputs: Int?, spacedInputs: Bool, training: Bool,
         stateInputs: [SavedState]) {
        self.layer = layer
        self.batch = batch
        self.training = training
        inputs = layer.inputShapes.map { shape in
            let t = Tensor(shape: shape.batched(batch))
            if let vocabulary = indexInputs {
                for i in 0..<t.count { t.data[i] = Float(Int(rng.next() % UInt64(vocabulary))) }
            } else if spacedInputs {
                // Distinct values 0.1 apart, shuffled: ±h never reorders them or crosses zero.
                var values = (0..<t.count).map { Float($0 - t.count / 2) * 0.1 + 0.037 }
                values.shuffle(using: &rng)
                for i in 0..<t.count { t.data[i] = values[i] }
            } else {
                for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) }
            }
            return t
        }
        parameters = layer.parameterSpecs.map { spec in
            let t = Tensor(shape: spec.shape)
            if spec.isTrainable {
                for i in 0..<t.count { t.data[i] = rng.uniform(bound: 1) }
            } else {
                spec.initializer.fill(t, rng: &rng)
            }
            return t
        }
        gradients = layer.parameterSpecs.map { Tensor(shape: $0.shape) }
        layer.bind(parameters: parameters, gradients: gradients)
        r = (0..<layer.outputShape.batched(batch).count).map { _ in rng.uniform(bound: 1) }
        workspace = Tensor(shape: [max(layer.workspaceSize(batch: batch), 1)])
        saved = SavedState(allocating: layer.savedStateFloats(batch: batch))
        self.stateInputs = stateInputs
    }

    func context() -> ExecutionContext {
        var c = ExecutionContext(isTraining: training, rng: RNG(seed: 99), workspace: workspace.data,
                                 workspaceCount: workspace.count)
        c.saved = saved
        c.stateInputs = stateInputs
        return c
    }

    func forward() -> Tensor {
        let output = Tensor(shape: layer.outputShape.batched(batch))
        var c = context()
        layer.forward(inputs: inputs, output: output, context: &c)
        return output
    }

    func loss() -> Double {
        let y = forward()
        var s = 0.0
        for i in 0..<y.count { s += Double(r[i]) * Double(y.data[i]) }
        return s
    }
}
