import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Re-executes cnnctl once with `OPENBLAS_CORETYPE` set when OpenBLAS loaded slower kernels than
/// the CPU supports, or another core than `CNNCTL_BLAS_CORE` names (see `BLASCore`): OpenBLAS
/// reads the variable only while it loads, which has happened before `main` runs. If the exec
/// fails, cnnctl goes on with the loaded kernels.
enum BLASCoreSelection {
    static func reexecIfNeeded() {
        guard !BLASCore.wasReplaced,
              let core = BLASCore.preferredCore(choice: getenv(BLASCore.override).map { String(cString: $0) },
                                                cpuFlags: BLASCore.cpuFlags(), loaded: BLASCore.loaded)
        else { return }
        setenv(BLASCore.marker, BLASCore.loadedOrigin, 1)
        setenv(BLASCore.variable, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(BLASCore.marker)
    }
}
