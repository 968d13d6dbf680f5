#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Work split into parts, run by `WorkerPool.run`: part 0 on the calling thread, the others on
/// the pool's workers, all at once. A value type holding the call's arguments.
public protocol PartitionedWork {
    func run(part: Int)
}

extension PartitionedWork {
    /// Runs part `part` of the work stored at `work` (how workers call it without a closure).
    @inlinable
    public static func run(_ work: UnsafeRawPointer, part: Int) {
        work.assumingMemoryBound(to: Self.self).pointee.run(part: part)
    }
}

/// Work over a contiguous range of items, split by `WorkerPool.forEachRange`.
public protocol RangeWork {
    func run(_ range: Range<Int>)
}

@usableFromInline
struct RangeParts<Work: RangeWork>: PartitionedWork {
    @usableFromInline let work: Work
    @usableFromInline let count: Int, used: Int

    @inlinable
    init(work: Work, count: Int, used: Int) {
        self.work = work
        self.count = count
        self.used = used
    }

    @inlinable
    func run(part: Int) {
        if part < used { work.run(WorkerPool.share(count, part: part, of: used)) }
    }
}

/// Threads that split a layer's batch (or elements) between the cores, llm.c's OpenMP
/// `parallel for` done by hand: `run` hands the same work to every worker with its part number
/// and waits for all of them. Part 0 runs on the calling thread.
///
/// OpenBLAS keeps its own threads, which spin for a while after each call; two pools busy at once
/// put 4 threads on 2 cores (Debian's PyTorch loses 3–10× that way). So with more than one part
/// OpenBLAS runs one thread per caller, and only layers that parallelize nothing themselves
/// (recurrent layers: one small product per time step) widen it with `withWideBLAS`.
/// Handing over work allocates nothing (see `run`).
///
/// A hand-off spins before it sleeps, as OpenMP runtimes do (GOMP_SPINCOUNT): a training step
/// hands over work a hundred times or more, the gaps between are microseconds, and waking a
/// thread blocked in the kernel took tens of them here. Workers watch the job counter and the
/// caller the count of parts still running for `spinSeconds`, then wait on a condition variable.
/// With more parts than cores nothing spins: a spinning thread would take turns with a working
/// one. (The measurements behind both rules are in docs/PERFORMANCE.md.)
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
    /// Jobs handed over so far, and parts of the current job still running on workers.
    private let generation = Atomic<Int>(0), remaining = Atomic<Int>(0)
    /// How long a worker waits for the next job, and the caller for its workers, before sleeping
    /// (0 while there are more parts than cores).
    static let spinSeconds = 100e-6
    private var spinLimit = 0.0
    private var job: (work: UnsafeRawPointer, invoke: (UnsafeRawPointer, Int) -> Void)?
    /// Jobs handed to this pool's workers so far (a pool of one part runs them on the caller and
    /// hands out none): how a test sees which pool did an executor's work.
    public var jobsHandedOut: Int { generation.load(ordering: .acquiring) }
    /// The cores it was configured for: its parts, or OpenBLAS's threads with one part.
    public private(set) var threadCount = 1

    /// A pool of one part until `configure`. The process's default is `shared`; executors
    /// with other settings can have their own (OpenBLAS's thread count, which `configure`
    /// sets, stays process-wide: the last call wins).
    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    /// Uses `threads` cores: that many parts (at most maxParts), starting worker threads as
    /// needed, and OpenBLAS at one thread (or `threads` when there is one part).
    public func configure(threads: Int) {
        threadCount = max(threads, 1)
        parts = min(threadCount, Self.maxParts)
        spinLimit = parts <= sysconf(Int32(_SC_NPROCESSORS_ONLN)) ? Self.spinSeconds : 0
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

    /// Runs `work.run(part:)` for every part in 0..<parts at once and returns when all are done.
    /// The work is a value on the caller's stack and the workers call it through a pointer, so a
    /// hand-off allocates nothing (a closure would: making it escape for the workers boxes it).
    @inlinable
    public func run<Work: PartitionedWork>(_ work: Work) {
        guard parts > 1 else { return work.run(part: 0) }
        withUnsafePointer(to: work) { dispatch(UnsafeRawPointer($0), Work.run(_:part:)) }
    }

    /// Hands `invoke(work, part)` to the workers, runs part 0 and waits for the others. The job is
    /// published by the counter's releasing increment; the broadcast under the mutex wakes workers
    /// that gave up spinning (they check the counter under the same mutex, so none misses it).
    @usableFromInline
    func dispatch(_ work: UnsafeRawPointer, _ invoke: @escaping (UnsafeRawPointer, Int) -> Void) {
        job = (work, invoke)
        remaining.store(parts - 1, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        invoke(work, 0)
        if !spin(until: { remaining.load(ordering: .acquiring) == 0 }) {
            pthread_mutex_lock(mutex)
            while remaining.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, mutex) }
            pthread_mutex_unlock(mutex)
        }
        job = nil
    }

    /// True when `ready()` held within `spinLimit` seconds (the clock is read every 256 checks).
    @inline(__always)
    private func spin(until ready: () -> Bool) -> Bool {
        let deadline = MonotonicClock.seconds() + spinLimit
        while true {
            for _ in 0..<256 where ready() { return true }
            if MonotonicClock.seconds() > deadline { return ready() }
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
    /// runs `work` on each at once; fewer parts are used while a part would get less than
    /// `grain` elements.
    @inlinable
    public func forEachRange<Work: RangeWork>(_ count: Int, itemSize: Int = 1, _ work: Work) {
        let used = min(parts, max(1, count / max(1, grain / max(1, itemSize))))
        guard used > 1 else { return work.run(0..<count) }
        run(RangeParts(work: work, count: count, used: used))
    }

    /// The contiguous share of `0..<count` that part `part` of `parts` takes.
    @inlinable @inline(__always)
    public static func share(_ count: Int, part: Int, of parts: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    private func workerLoop(part: Int) -> UnsafeMutableRawPointer? {
        var seen = 0
        while true {
            if !spin(until: { generation.load(ordering: .acquiring) != seen }) {
                pthread_mutex_lock(mutex)
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            guard part < parts, let body = job else { continue }
            body.invoke(body.work, part)
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    private final class WorkerContext {
        let pool: WorkerPool
        let part: Int
        init(pool: WorkerPool, part: Int) { self.pool = pool; self.part = part }
    }
}
