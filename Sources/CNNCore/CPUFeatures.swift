/// What this processor can run, read once from /proc/cpuinfo.
public enum CPUFeatures {
    /// AVX-512 F, CD, BW, DQ and VL: the skylake-avx512 level that CNNDirectConv is compiled for.
    /// Calling that module's kernels without it would stop the process with an illegal instruction.
    public static let hasAVX512: Bool = {
        let flags = BLASCore.cpuFlags()
        return ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }()

    /// The variable that turns the direct convolution kernels off (`off`), for comparisons.
    public static let directConvolutionVariable = "CNNCTL_DIRECT_CONV"

    /// Whether stride-1 convolutions may use CNNDirectConv: the CPU has AVX-512 and
    /// `CNNCTL_DIRECT_CONV` is not `off`.
    public static let directConvolution: Bool =
        hasAVX512 && BLASCore.environment(directConvolutionVariable)?.lowercased() != "off"
}
