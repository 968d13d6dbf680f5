import CNNCore

/// Per-node forward and backward seconds, summed over the passes run while it is attached to an
/// executor (`caffe time`'s per-layer table). Timing every node perturbs the totals, so step
/// throughput is measured with no profile attached.
public final class ExecutionProfile {
    public private(set) var forwardSeconds: [Double]
    public private(set) var backwardSeconds: [Double]
    public private(set) var forwardPasses = 0
    public private(set) var backwardPasses = 0

    public init(nodeCount: Int) {
        forwardSeconds = Array(repeating: 0, count: nodeCount)
        backwardSeconds = Array(repeating: 0, count: nodeCount)
    }

    func add(forward node: Int, _ seconds: Double) { forwardSeconds[node] += seconds }
    func add(backward node: Int, _ seconds: Double) { backwardSeconds[node] += seconds }
    func finishForward() { forwardPasses += 1 }
    func finishBackward() { backwardPasses += 1 }
}
