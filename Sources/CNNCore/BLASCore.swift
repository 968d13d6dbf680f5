import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Which OpenBLAS kernel family runs, and why.
///
/// On AVX-512 CPUs OpenBLAS's "SkylakeX" kernels run sgemm about twice as fast as its AVX2
/// "Haswell" ones, but Debian's OpenBLAS 0.3.21 may load the slower family: it predates recent
/// CPUs, and machine images often pin `OPENBLAS_CORETYPE=Haswell` to be safe. OpenBLAS reads
/// that variable once, while the library loads (before `main`), so cnnctl re-executes itself
/// with the variable set (see `preferredCore`). `CNNCTL_BLAS_CORE` decides instead: a core
/// name forces that core, `inherit` keeps whatever `OPENBLAS_CORETYPE` says.
public enum BLASCore {
    /// The variable OpenBLAS's dynamic-architecture loader reads.
    public static let variable = "OPENBLAS_CORETYPE"
    /// cnnctl's own choice: a core name, or `inherit`.
    public static let override = "CNNCTL_BLAS_CORE"
    /// Set on the re-executed process to what was loaded before, for reports (and so that a
    /// core name OpenBLAS does not know cannot cause a second re-exec).
    public static let marker = "CNNCTL_BLAS_REPLACED"
    /// OpenBLAS core names whose kernels use AVX-512.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// The kernel family in use ("Haswell", "SkylakeX", …).
    public static var loaded: String { String(cString: openblas_get_corename()) }

    /// The core to re-execute with, or nil to keep the loaded one. `choice` is `CNNCTL_BLAS_CORE`.
    public static func preferredCore(choice: String?, cpuFlags: Set<String>, loaded: String) -> String? {
        if let choice {
            return choice == "inherit" || choice.lowercased() == loaded.lowercased() ? nil : choice
        }
        guard cpuFlags.contains("avx512f"), !avx512Cores.contains(loaded.lowercased()) else { return nil }
        return "SkylakeX"
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Whether this process was re-executed to change the core (then it must not do so again).
    public static var wasReplaced: Bool { environment(marker) != nil }

    /// What the re-executed process should report as replaced: the core and where it came from.
    public static var loadedOrigin: String {
        loaded + (environment(variable).map { " from \(variable)=\($0)" } ?? " by OpenBLAS's own detection")
    }

    /// One line for reports: the core, and who chose it.
    public static var choiceDescription: String {
        let core = loaded
        if let choice = environment(override), choice != "inherit" {
            return choice.lowercased() == core.lowercased() ? "\(core) (from \(override)=\(choice))"
                : "\(core) (OpenBLAS has no core \(override)=\(choice) for this CPU and chose itself)"
        }
        if let replaced = environment(marker) {
            return "\(core) (chosen by cnnctl for this AVX-512F CPU instead of \(replaced); "
                + "\(override)=inherit keeps \(variable))"
        }
        if let inherited = environment(variable) { return "\(core) (from \(variable)=\(inherited))" }
        return "\(core) (OpenBLAS's own detection)"
    }

    /// The `flags` of the first processor in /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("flags"), let colon = text.firstIndex(of: ":") else { continue }
            return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }
        return []
    }
}
