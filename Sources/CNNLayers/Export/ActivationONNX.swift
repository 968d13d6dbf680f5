/// Each activation as its ONNX operator, or the composition that computes it exactly (GELU's
/// `x·Φ(x)` through `Erf`: `Gelu` itself is opset 20).
extension Activation: ONNXExportable {
    public func exportONNX(_ b: inout ONNXNodeBuilder) throws {
        let x = b.inputs[0]
        switch function {
        case .relu: b.add("Relu", [x], final: true)
        case .relu6:
            let lo = b.constant([0], dims: []), hi = b.constant([6], dims: [])
            b.add("Clip", [x, lo, hi], final: true)
        case .leakyReLU: b.add("LeakyRelu", [x], final: true, [("alpha", .float(negativeSlope))])
        case .elu: b.add("Elu", [x], final: true, [("alpha", .float(alpha))])
        case .tanh: b.add("Tanh", [x], final: true)
        case .sigmoid: b.add("Sigmoid", [x], final: true)
        case .swish, .silu: b.add("Mul", [x, b.add("Sigmoid", [x])], final: true)
        case .hardSwish: b.add("HardSwish", [x], final: true)
        case .hardSigmoid:
            b.add("HardSigmoid", [x], final: true, [("alpha", .float(1.0 / 6)), ("beta", .float(0.5))])
        case .gelu:
            let scaled = b.add("Div", [x, b.constant([Float(2).squareRoot()], dims: [])])
            let cdf = b.add("Add", [b.add("Erf", [scaled]), b.constant([1], dims: [])])
            b.add("Mul", [b.add("Mul", [x, cdf]), b.constant([0.5], dims: [])], final: true)
        case .identity: b.add("Identity", [x], final: true)
        }
    }
}
