#if canImport(Glibc)
import Glibc
#endif

/// How much memory the machine can still give: Linux's `MemAvailable` (free memory plus what
/// the page cache can drop, the kernel's own estimate for a new process), so that sizes declared
/// by files and configs can be refused with figures before they are allocated.
public enum SystemMemory {
    /// The least of what the kernel, this process's address-space limit (`ulimit -v`) and its
    /// control group (a container's `memory.max`) can still give, in bytes; nil where none of
    /// them says.
    public static var availableBytes: Int? {
        [memAvailable, addressSpaceHeadroom, controlGroupHeadroom].compactMap { $0 }.min()
    }

    /// `MemAvailable` from `/proc/meminfo`.
    static var memAvailable: Int? {
        field("MemAvailable:", in: "/proc/meminfo").map { $0 * 1024 }
    }

    /// `RLIMIT_AS` less the address space already in use (`VmSize`), when there is a limit.
    static var addressSpaceHeadroom: Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max,
              let used = field("VmSize:", in: "/proc/self/status") else { return nil }
        return max(0, Int(clamping: limit.rlim_cur) - used * 1024)
    }

    /// cgroup v2's `memory.max` less `memory.current`, when the group has a limit.
    static var controlGroupHeadroom: Int? {
        guard let max = number(in: "/sys/fs/cgroup/memory.max"),
              let current = number(in: "/sys/fs/cgroup/memory.current") else { return nil }
        return Swift.max(0, max - current)
    }

    /// The number after `name` on its line of a `/proc` file (`MemAvailable:   123 kB` → 123).
    private static func field(_ name: String, in path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix(name) else { continue }
            return Int(text.dropFirst(name.count).filter(\.isNumber))
        }
        return nil
    }

    /// A file holding one number (`max` or anything else gives nil).
    private static func number(in path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return Int(String(cString: line).filter(\.isNumber).prefix(19))
    }

    /// A `1/divisor` share of the available memory, at most `cap` bytes: the size allowed to a
    /// headerless file that grows `divisor`-fold once decoded.
    public static func share(_ divisor: Int, cap: Int) -> Int {
        min(cap, (availableBytes ?? Int.max) / divisor)
    }

    /// Throws when `bytes` (what `what` needs) exceed the available memory, or `limit` (a user's
    /// `--memory-limit`) when that is less: `needs 4.00 GiB for the decoded images, but only
    /// 1.20 GiB of memory is available`. Without a figure from the system or a limit it passes.
    public static func require(_ bytes: Int, for what: String, file: String?, limit: Int? = nil) throws {
        let system = availableBytes ?? Int.max
        let available = min(system, limit ?? Int.max)
        guard bytes > available else { return }
        let source = limit.map { $0 < system ? " (--memory-limit)" : "" } ?? ""
        throw MemoryError(location: file, message: "needs \(ByteCount(bytes)) for \(what), but only "
                          + "\(ByteCount(available)) of memory is available\(source)")
    }
}

/// More memory asked for than the machine can give, refused before the allocation.
public struct MemoryError: LocatedError {
    public let location: String?
    public let message: String
}
