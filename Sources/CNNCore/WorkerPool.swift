#if canImport(Glibc)
import Glibc
#endif

/// Threads that split a layer's batch (or elements) between the cores, llm.c's OpenMP
/// `parallel for` done by hand: `run` hands the same body to every worker with its part number
/// and waits for all of them. Part 0 runs on the calling thread.
///
/// OpenBLAS keeps its own threads, which spin for a while after each call; two pools busy at once
/// put 4 threads on 2 cores (Debian's PyTorch loses 3–10× that way). So with more than one part
/// OpenBLAS runs one thread per caller, and only layers that parallelize nothing themselves
/// (recurrent layers: one small product per time step) widen it with `withWideBLAS`. Measured on
/// LeNet-5: 11,400–12,000 images/s with OpenBLAS at 2 threads outside `run`, 18,700–19,000 at 1.
/// Handing over a body allocates nothing: it is a non-escaping closure, kept only until every
/// worker has finished with it.
public final class WorkerPool: @unchecked Sendable {
    public static let shared = WorkerPool()
    /// The most parts any layer plans workspace for.
    public static let maxParts = 4

    /// Parts per `run` (1 = run on the caller only).
    public private(set) var parts = 1
    /// Elements below which `forEachRange` gives a part no work: waking a thread costs about as
    /// much as a pass over 16K floats. Tests set 1 to split even tiny tensors.
    public var grain = 1 << 14
    private var workers: [pthread_t] = []
    // Heap cells, never Swift properties passed with `&`: a pthread object must not move, and
    // `&property` may hand C a temporary copy.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var remaining = 0
    private var job: ((Int) -> Void)?
    private var threadCount = 1

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    /// Uses `threads` cores: that many parts (at most maxParts), starting worker threads as
    /// needed, and OpenBLAS at one thread (or `threads` when there is one part).
    public func configure(threads: Int) {
        threadCount = max(threads, 1)
        parts = min(threadCount, Self.maxParts)
        BLASThreads.set(parts > 1 ? 1 : threadCount)
        while workers.count < parts - 1 {
            let index = workers.count + 1
            let context = Unmanaged.passRetained(WorkerContext(pool: self, part: index)).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                return context.pool.workerLoop(part: context.part)
            }, context)
            workers.append(thread)
        }
    }

    /// Calls `body(part)` for every part in 0..<parts at once and returns when all are done.
    public func run(_ body: (Int) -> Void) {
        guard parts > 1 else { return body(0) }
        withoutActuallyEscaping(body) { body in
            pthread_mutex_lock(mutex)
            job = body
            remaining = parts - 1
            generation += 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            body(0)
            pthread_mutex_lock(mutex)
            while remaining > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }
    }

    /// Runs `body` with OpenBLAS on all configured threads (for layers whose only parallelism is
    /// inside their matrix products).
    public func withWideBLAS<T>(_ body: () -> T) -> T {
        guard parts > 1 else { return body() }
        BLASThreads.set(threadCount)
        defer { BLASThreads.set(1) }
        return body()
    }

    /// Splits `0..<count` items of `itemSize` elements into one contiguous range per part and
    /// calls `body` with each at once; fewer parts are used while a part would get less than
    /// `grain` elements.
    public func forEachRange(_ count: Int, itemSize: Int = 1, _ body: (Range<Int>) -> Void) {
        let used = min(parts, max(1, count / max(1, grain / max(1, itemSize))))
        guard used > 1 else { return body(0..<count) }
        run { part in
            if part < used { body(Self.share(count, part: part, of: used)) }
        }
    }

    /// The contiguous share of `0..<count` that part `part` of `parts` takes.
    @inline(__always)
    public static func share(_ count: Int, part: Int, of parts: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    private func workerLoop(part: Int) -> UnsafeMutableRawPointer? {
        var seen = 0
        while true {
            pthread_mutex_lock(mutex)
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            var body = part < parts ? job : nil
            pthread_mutex_unlock(mutex)
            body?(part)
            let ran = body != nil
            body = nil  // released before `run` is told, so the closure never outlives it
            pthread_mutex_lock(mutex)
            if ran {
                remaining -= 1
                if remaining == 0 { pthread_cond_signal(done) }
            }
            pthread_mutex_unlock(mutex)
        }
    }

    private final class WorkerContext {
        let pool: WorkerPool
        let part: Int
        init(pool: WorkerPool, part: Int) { self.pool = pool; self.part = part }
    }
}
