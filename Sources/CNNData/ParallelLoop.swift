import Dispatch
import Synchronization

/// `body(i)` for every i in 0..<count on `threads` threads, each taking the next index from a
/// shared counter (so a slow file does not hold up a fixed share of the others). For the
/// loading passes over image files; `body` must be safe to run concurrently.
enum ParallelLoop {
    static func run(count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                body(i)
            }
        }
    }

    /// What `body(i)` returned or threw, for every index in index order (so a caller that
    /// stops at the first failure reports the lowest index's, whichever thread got there first).
    static func results<T: Sendable>(count: Int, threads: Int,
                                     _ body: @Sendable (Int) throws -> T) -> [Result<T, Error>] {
        let results = Mutex<[Result<T, Error>?]>(Array(repeating: nil, count: count))
        run(count: count, threads: threads) { i in
            let result = Result { try body(i) }
            results.withLock { $0[i] = result }
        }
        return results.withLock { $0 }.map { $0! }
    }
}
