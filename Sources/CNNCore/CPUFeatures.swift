/// What this processor can run, read once from /proc/cpuinfo.
public enum CPUFeatures {
    /// AVX-512 F, CD, BW, DQ and VL: the skylake-avx512 level that CNNAVX512 is compiled for.
    /// Calling that module's kernels without it would stop the process with an illegal instruction.
    public static let hasAVX512: Bool = {
        let flags = BLASCore.cpuFlags()
        return ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }()

    /// The variable that turns CNNAVX512's kernels off (`off`), for comparisons.
    public static let avx512Variable = "CNNCTL_AVX512"

    /// Whether CNNAVX512's kernels run (direct convolutions, packed recurrent products): the CPU
    /// has AVX-512 and `CNNCTL_AVX512` is not `off`.
    public static let avx512Kernels: Bool =
        hasAVX512 && BLASCore.environment(avx512Variable)?.lowercased() != "off"

    /// What `bench` prints about these kernels.
    public static var avx512KernelsDescription: String {
        if avx512Kernels {
            return "AVX-512 direct convolutions (stride 1 and 2) and packed recurrent products; \(avx512Variable)=off turns them off"
        }
        return hasAVX512 ? "im2col + sgemm only (\(avx512Variable)=off)" : "im2col + sgemm only (this CPU lacks AVX-512)"
    }
}
