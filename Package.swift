// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: cnnctl → CNNBench → CNNTraining → CNNGraph → CNNLayers → CNNCore → C shims,
// cnnctl → CNNExport → CNNGraph (ONNX),
// CNNLayers → CNNAVX512 → CNNCore and CNNTraining → CNNData → CNNCore. CNNConfig (reading JSON,
// decoding configs with key paths, config errors) is at the bottom beside CNNCore: CNNLayers,
// CNNGraph, CNNData and CNNTraining use it, and it uses nothing of the project but CJSON, so the
// data loaders need no layers to decode their section.
// The kernels' loops vectorize for Haswell-level x86-64 (AVX2 + FMA, 8 lanes; x86-64 CPUs since
// about 2015) instead of the SSE2 baseline (4 lanes), which made the recurrent and MBConv models
// markedly faster; AVX-512 code (skylake-avx512) was no faster for them (docs/PERFORMANCE.md). CNNAVX512's register-blocked kernels are the exception (24 accumulators of 16
// lanes need AVX-512's 32 zmm registers): it is compiled for skylake-avx512 and only called when
// CPUFeatures.hasAVX512 says the CPU has it.
#if arch(x86_64)
let kernels: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let avx512: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
#else
let kernels: [SwiftSetting] = []
let avx512: [SwiftSetting] = []
#endif

// CNNCore's loops are optimized in debug builds too: the tests run them thousands of times
// (finite differences call a layer's forward twice per checked element), and unoptimized SIMD
// code is many times slower. So are CNNTestSupport's reference loops (the 7-loop convolution
// the convolution tests compare every algorithm with).
let optimizedInTests: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "cnnctl",
    products: [
        .executable(name: "cnnctl", targets: ["cnnctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJSON", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "mpi", providers: [.apt(["libopenmpi-dev"])]),

        .target(name: "CNNConfig", dependencies: ["CJSON", "CNNCore"]),
        .target(name: "CNNCore", dependencies: ["COpenBLAS"], swiftSettings: kernels + optimizedInTests),
        .target(name: "CNNAVX512", dependencies: ["CNNCore"], swiftSettings: avx512),
        .target(name: "CNNLayers", dependencies: ["CNNCore", "CNNAVX512", "CNNConfig"],
                swiftSettings: kernels),
        .target(name: "CNNGraph", dependencies: ["CNNLayers", "CNNConfig"]),
        .target(name: "CNNData", dependencies: [
            "CNNCore", "CNNConfig", "CZlib", "CTurboJPEG", "CPNG",
            .product(name: "CSV", package: "CSV.swift"),
        ],
                swiftSettings: kernels),
        .target(name: "CNNTraining", dependencies: ["CNNGraph", "CNNData", "CNNConfig"],
                swiftSettings: kernels),
        .target(name: "CNNBench", dependencies: ["CNNTraining"]),
        .target(name: "CNNExport", dependencies: ["CNNGraph", "CNNLayers"]),
        .target(name: "CNNVisual", dependencies: ["CNNCore", "CNNData", "COpenBLAS"]),
        .target(name: "CNNDistributed", dependencies: ["CMPI", "CNNTraining"]),
        .executableTarget(name: "cnnctl", dependencies: [
            "CNNConfig", "CNNGraph", "CNNLayers", "CNNData", "CNNTraining", "CNNBench", "CNNExport", "CNNVisual", "CNNDistributed",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "CNNTestSupport", dependencies: ["CNNLayers", "CNNConfig"]),

        .testTarget(name: "CNNConfigTests", dependencies: ["CNNConfig", "CNNCore"]),
        .testTarget(name: "CNNCoreTests", dependencies: ["CNNCore", "CNNTestSupport"]),
        .testTarget(name: "CNNLayersTests",
                    dependencies: ["CNNLayers", "CNNAVX512", "CNNConfig", "CNNTestSupport"]),
        .testTarget(name: "CNNGraphTests", dependencies: ["CNNGraph", "CNNConfig", "CNNTestSupport"]),
        .testTarget(name: "CNNDataTests", dependencies: ["CNNData", "CNNConfig"]),
        .testTarget(name: "CNNTrainingTests", dependencies: ["CNNTraining", "CNNConfig", "CNNTestSupport"]),
        .testTarget(name: "CNNBenchTests", dependencies: ["CNNBench"]),
        .testTarget(name: "CNNExportTests", dependencies: ["CNNExport", "CNNGraph", "CNNTraining"]),
        .testTarget(name: "CNNVisualTests", dependencies: ["CNNVisual", "CNNData"]),
        .testTarget(name: "CLITests", dependencies: ["cnnctl", "CNNTraining"]),
    ]
)
