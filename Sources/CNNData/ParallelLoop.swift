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
}
