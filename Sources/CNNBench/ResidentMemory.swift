#if canImport(Glibc)
import Glibc
#endif

/// The process's resident memory from /proc/self/status: `VmRSS` now and `VmHWM`, the peak.
public enum ResidentMemory {
    public static var currentBytes: Int { field("VmRSS:") }
    public static var peakBytes: Int { field("VmHWM:") }

    /// The value of a `Name:   123 kB` line, in bytes (0 where there is no such line).
    private static func field(_ name: String) -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard line.hasPrefix(name) else { continue }
            let digits = line.dropFirst(name.count).filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }
}
