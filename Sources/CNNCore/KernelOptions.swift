/// Which optional kernels layers may choose when they are built: CNNAVX512's kernels (direct
/// convolutions, packed products) and Winograd convolutions. The environment's switches
/// (`CNNCTL_AVX512`, `CNNCTL_WINOGRAD`) give the default; tests and comparisons build graphs
/// with other options side by side in one process.
public struct KernelOptions: Sendable, Equatable {
    /// CNNAVX512's kernels; false on a CPU without AVX-512, whatever was asked (they would stop
    /// the process with an illegal instruction).
    public let avx512: Bool
    public let winograd: Bool

    public init(avx512: Bool = CPUFeatures.avx512Kernels, winograd: Bool = WinogradPlan.enabled) {
        self.avx512 = avx512 && CPUFeatures.hasAVX512
        self.winograd = winograd
    }

    /// As the environment's switches say.
    public static let environment = KernelOptions()
}
