import Dispatch

/// The hand-off between a `BatchLoader`'s training thread and its prefetch thread for one pass
/// over an epoch. The training thread writes `request` (a batch index, or nil for "stop") and
/// signals `requested`; the worker prepares that batch in slot `index % 2` and signals `ready`;
/// it signals `finished` when it exits.
///
/// `@unchecked Sendable` because `request` is a plain variable shared by two threads. This is
/// safe because there is never more than one request outstanding: the training thread writes
/// `request` only while the worker is idle (before the first request, or after `ready.wait()`
/// returned for the previous one) and the worker reads it only after `requested.wait()`
/// returns. Semaphore signal → wait orders the write before the read (and the worker's writes
/// into a slot before the training thread's reads), so no two accesses race.
final class PrefetchChannel: @unchecked Sendable {
    var request: Int?
    let requested = DispatchSemaphore(value: 0)
    let ready = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
}
