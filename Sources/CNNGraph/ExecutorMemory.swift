import CNNCore

extension Executor {
    /// The bytes an executor for `graph` allocates for batches of up to `maxBatch`: parameters
    /// and their gradients, its copy of the input, every node's output and output gradient (fused
    /// activations share their producer's, which this bound does not subtract), the saved state
    /// and the shared workspace. Saturates at `Int.max` instead of overflowing, so an absurd
    /// graph or batch compares as too large.
    public static func bytesNeeded(_ graph: Graph, maxBatch: Int) -> Int {
        var floats = SaturatingCount(graph.parameterCount) * 2
        floats += SaturatingCount(graph.inputShape.count) * maxBatch
        var workspace = 0
        for node in graph.nodes {
            let layer = node.layer
            floats += SaturatingCount(layer.outputShape.count) * maxBatch * 2
            floats += layer.savedStateFloats(batch: maxBatch) + 16
            workspace = max(workspace, layer.workspaceSize(batch: maxBatch))
        }
        floats += workspace
        return (floats * 4).value
    }

    /// Refuses, before anything is allocated, an executor (and `extraBytes` besides, e.g. an
    /// optimizer's moments) that needs more memory than is available: `what` says what it is for.
    public static func checkMemory(_ graph: Graph, maxBatch: Int, extraBytes: Int = 0, what: String,
                                   limit: Int? = nil) throws {
        let needed = SaturatingCount(bytesNeeded(graph, maxBatch: maxBatch)) + extraBytes
        try SystemMemory.require(needed.value, for: "\(what) of model \(graph.name) at batch \(maxBatch)",
                                 file: graph.file, limit: limit)
    }
}

/// A non-negative count whose sums and products stop at `Int.max` instead of overflowing.
struct SaturatingCount {
    private(set) var value: Int

    init(_ value: Int = 0) { self.value = max(0, value) }

    static func + (a: SaturatingCount, b: Int) -> SaturatingCount {
        let (sum, overflow) = a.value.addingReportingOverflow(max(0, b))
        return SaturatingCount(overflow ? Int.max : sum)
    }

    static func + (a: SaturatingCount, b: SaturatingCount) -> SaturatingCount { a + b.value }

    static func * (a: SaturatingCount, b: Int) -> SaturatingCount {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: max(0, b))
        return SaturatingCount(overflow ? Int.max : product)
    }

    static func += (a: inout SaturatingCount, b: Int) { a = a + b }
    static func += (a: inout SaturatingCount, b: SaturatingCount) { a = a + b }
}
