#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`): no allocation, immune to
/// wall-clock changes, so it can time a layer inside a training step.
public enum MonotonicClock {
    @inline(__always)
    public static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
