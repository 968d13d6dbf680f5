import Foundation

/// The hand-off between a `BatchLoader`'s training thread and its worker threads for one pass
/// over an epoch: `depth` slots in a ring, batch k in slot `k % depth`. Workers take the next
/// batch to fill in order, but only once the batch that held its slot, `k − depth`, has been
/// released by the training thread; the training thread waits until batch k is in its slot,
/// runs the body, and releases it. So up to `depth − 1` batches are prepared ahead, in
/// parallel, and no slot is written while it is read.
///
/// `@unchecked Sendable` because its counters are plain variables shared by several threads.
/// This is safe because every access to them happens with `condition` locked, and a slot's
/// memory changes hands only through those counters: the lock orders a worker's writes into a
/// slot before the training thread's reads, and the training thread's release before the next
/// fill of that slot.
final class BatchRing: @unchecked Sendable {
    let depth: Int
    private let end: Int
    private let condition = NSCondition()
    private var nextToFill: Int
    private var released: Int
    /// Per slot: the batch it holds, once filled, and the error filling it threw.
    private var filled: [Int]
    private var failures: [Error?]
    private var stopping = false
    private var running = 0

    /// Batches `start ..< end` will be filled and taken.
    init(depth: Int, start: Int, end: Int) {
        self.depth = depth
        self.end = end
        nextToFill = start
        released = start
        filled = Array(repeating: -1, count: depth)
        failures = Array(repeating: nil, count: depth)
    }

    /// Starts `count` worker threads that fill batches with `fill(slot, batch)`.
    func start(workers count: Int, fill: @escaping @Sendable (Int, Int) throws -> Void) {
        condition.lock()
        running = count
        condition.unlock()
        for w in 0..<count {
            let thread = Thread { [self] in work(fill) }
            thread.name = "cnnctl batch loader \(w)"
            thread.start()
        }
    }

    private func work(_ fill: (Int, Int) throws -> Void) {
        condition.lock()
        while !stopping && nextToFill < end {
            let k = nextToFill
            if k - depth >= released {
                condition.wait()
                continue
            }
            nextToFill += 1
            condition.unlock()
            var failure: Error?
            do { try fill(k % depth, k) } catch { failure = error }
            condition.lock()
            failures[k % depth] = failure
            filled[k % depth] = k
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for batch `k` and returns its slot, or throws what filling it threw.
    func take(_ k: Int) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while filled[k % depth] != k { condition.wait() }
        if let failure = failures[k % depth] { throw failure }
        return k % depth
    }

    /// The training thread is done with batch `k`: its slot may be filled again.
    func release(_ k: Int) {
        condition.lock()
        released = k + 1
        condition.broadcast()
        condition.unlock()
    }

    /// Tells the workers to stop after the batch each is filling and waits until they have.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
