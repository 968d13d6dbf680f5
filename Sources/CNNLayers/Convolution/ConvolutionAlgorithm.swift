import CNNCore

/// One way of computing a 2-D convolution: im2col + sgemm, a pointwise product, the depthwise
/// loops, the AVX-512 direct kernels or Winograd. `Conv2D` owns the parameters and splits every
/// call between the worker pool's parts; an algorithm computes one part's share of the images
/// in that part's workspace slice. `ConvolutionSelection` decides which one a layer runs.
///
/// Weights reach an algorithm as the dense `[F, C/groups · kh · kw]` matrix (a connection
/// table already scattered into it); an algorithm that reads them in another layout (packed,
/// flipped, transformed) prepares them once per call, before the parts start.
protocol ConvolutionAlgorithm: AnyObject {
    /// What `bench` and the tests call it: `lowered`, `pointwise`, `depthwise`, `direct`, `winograd`.
    var name: String { get }
    /// Floats of scratch one part needs for its share of a batch of `batch` images.
    func workspaceFloats(batch: Int) -> Int
    /// The weights as `forward` reads them (the dense ones by default); `pool` may share the work.
    func forwardWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float>
    /// Whether `forward` runs once over the whole batch on the calling thread instead of in parts
    /// (its one product is then wide enough for OpenBLAS's own threads).
    var forwardsWholeBatch: Bool { get }
    /// `y` of `images`, each image finished (`ConvolutionForward.finish`) right after its product,
    /// while it is in cache.
    func forward(_ call: ConvolutionForward, images: Range<Int>, workspace: UnsafeMutablePointer<Float>)
    /// The weights as the input gradient reads them (the dense ones by default); called only
    /// when an input gradient is wanted.
    func inputGradientWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float>
    /// Adds the weight and bias gradients of `images` into `weightGradient`/`biasGradient`, and
    /// when `call.dx` is set their input gradient into dX (writes it when `call.overwriting`).
    /// Both gradients come from one pass because both read the same chunk of dY (and of the
    /// lowered or padded input) while it is in cache.
    func backward(_ call: ConvolutionBackward, images: Range<Int>, weightGradient: UnsafeMutablePointer<Float>,
                  biasGradient: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>)
    /// Whether the input gradient writes every element of dX exactly once, so that it can
    /// overwrite dX instead of adding, and the executor need not zero it.
    var overwritesInputGradient: Bool { get }
}

extension ConvolutionAlgorithm {
    func forwardWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> { w }
    func inputGradientWeights(_ w: UnsafeMutablePointer<Float>, pool: WorkerPool) -> UnsafeMutablePointer<Float> { w }
    var forwardsWholeBatch: Bool { false }
    var overwritesInputGradient: Bool { false }
}

/// The sizes every algorithm reads. Legend: N images, C channels, F filters, H×W input,
/// OH×OW output, kh×kw kernel.
struct ConvolutionShape: Sendable {
    let geometry: WindowGeometry
    let filters: Int, groups: Int

    var kernelsPerFilter: Int { geometry.channels / groups }
    /// Floats of one input image `[C, H, W]` and of one output image `[F, OH, OW]`.
    var inputSize: Int { geometry.channels * geometry.height * geometry.width }
    var outputSize: Int { filters * geometry.outArea }
    /// Floats of the weights and bias: a part's private gradients.
    var gradientFloats: Int { filters * kernelsPerFilter * geometry.kernelArea + filters }
}

/// One forward call: its tensors, the prepared weights, and what follows the product.
struct ConvolutionForward {
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    /// As `ConvolutionAlgorithm.forwardWeights` prepared them.
    let weight: UnsafeMutablePointer<Float>
    let batch: Int
    let bias: UnsafePointer<Float>?
    /// A folded batch norm's affine map (inference), or nil.
    let scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?
    let epilogue: Activation?
    let shape: ConvolutionShape

    /// Bias and the folded batch norm as one affine map per filter,
    /// `scale[f]·(y + b[f]) + shift[f] = scale[f]·y + (scale[f]·b[f] + shift[f])`, then the
    /// epilogue, on images whose product has just been written (still in cache).
    func finish(images: Range<Int>) {
        let area = shape.geometry.outArea, outSize = shape.outputSize, filters = shape.filters
        for b in images {
            let yb = y + b * outSize
            if bias != nil || scale != nil {
                for f in 0..<filters {
                    let s = scale?[f] ?? 1, c = (bias?[f] ?? 0) * s + (shift?[f] ?? 0), row = yb + f * area
                    for p in 0..<area { row[p] = row[p] * s + c }
                }
            }
            epilogue?.apply(yb, outSize)
        }
    }
}

/// One backward call's tensors and prepared weights.
struct ConvolutionBackward {
    let x: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>
    /// nil when no input gradient is wanted.
    let dx: UnsafeMutablePointer<Float>?
    /// Write dX instead of adding into it (only asked of algorithms that declare
    /// `overwritesInputGradient`, and of their small-batch fallbacks).
    let overwriting: Bool
    /// As `ConvolutionAlgorithm.inputGradientWeights` prepared them when `dx` is set, else dense.
    let weight: UnsafeMutablePointer<Float>
    let batch: Int
}

/// `sums[r] += Σ row r` for `rows` rows of `length` floats, `stride` apart: the bias gradient.
func addRowSums(_ a: UnsafePointer<Float>, rows: Int, length: Int, stride: Int, into sums: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        var s: Float = 0
        let row = a + r * stride
        for i in 0..<length { s += row[i] }
        sums[r] += s
    }
}

/// A layer that runs one of several algorithms, for `bench`'s report.
public protocol AlgorithmChoosing: Layer {
    /// The algorithm a call with `batch` images runs (`ConvolutionAlgorithm.name`).
    func algorithmName(batch: Int) -> String
}
