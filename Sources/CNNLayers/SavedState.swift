import CNNCore

/// The memory a layer keeps from forward for backward: `Layer.savedStateFloats(batch:)` 4-byte
/// words that the executor allocates in one arena beside the activations (so `summarize` and
/// the memory estimate count them, and no layer allocates during a step) and hands to the
/// layer's forward and backward of the same batch through `ExecutionContext.saved`. A layer
/// lays its words out as it likes (floats or Int32 indices), as a function of the batch size.
///
/// Another node may read it through a graph edge (`ExecutionContext.stateInputs`): that is how
/// `max_unpool2d` receives its pool's argmax, the pool's second output.
public struct SavedState {
    public let base: UnsafeMutableRawPointer?
    /// Its size in 4-byte words.
    public let words: Int

    /// Keeps memory of its own alive (`init(allocating:)`); nil in an executor's arena.
    private let owner: AnyObject?

    public static var none: SavedState { SavedState(nil, words: 0) }

    public init(_ base: UnsafeMutableRawPointer?, words: Int) {
        self.base = base
        self.words = words
        owner = nil
    }

    /// Memory of its own for `words` words, for a layer run outside an executor (tests).
    public init(allocating words: Int) {
        let memory = Tensor(shape: [max(words, 1)])
        base = UnsafeMutableRawPointer(memory.data)
        self.words = words
        owner = memory
    }

    /// `count` floats from word `offset`.
    public func floats(at offset: Int = 0, count: Int) -> UnsafeMutablePointer<Float> {
        region(offset, count).bindMemory(to: Float.self, capacity: count)
    }

    /// `count` 4-byte indices from word `offset`.
    public func indices(at offset: Int = 0, count: Int) -> UnsafeMutablePointer<Int32> {
        region(offset, count).bindMemory(to: Int32.self, capacity: count)
    }

    private func region(_ offset: Int, _ count: Int) -> UnsafeMutableRawPointer {
        guard let base, offset >= 0, count >= 0, offset + count <= words else {
            preconditionFailure("saved state of \(words) words has no room for \(count) at \(offset)")
        }
        return base + 4 * offset
    }
}
