import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT) and SIGTERM ask training to stop after the current step, write a checkpoint
/// and exit; a second signal ends the process at once.
public enum StopSignal {
    private static let requested = Atomic<Bool>(false)

    public static var isRequested: Bool { requested.load(ordering: .relaxed) }

    public static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if StopSignal.requested.exchange(true, ordering: .relaxed) { _exit(130) }
                let message = "\nstopping after this step (signal again to quit at once)\n"
                message.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
            }
        }
    }

    /// For tests: ask for a stop as a signal would.
    public static func request() { requested.store(true, ordering: .relaxed) }
    public static func reset() { requested.store(false, ordering: .relaxed) }
}
