import CNNConfig
import CNNCore

/// Presents `[C, H, W]` images to sequence models (RNNs, 1-D convolutions, attention) as
/// `[T, F]` sequences, the "row-by-row MNIST" setup of Le, Jaitly & Hinton 2015 ("A Simple Way
/// to Initialize Recurrent Networks of Rectified Linear Units") with whole rows as steps:
///
///     rows:     T = H, F = C·W,   x[t = h][f = c·W + w] = image[c][h][w]
///     columns:  T = W, F = C·H,   x[t = w][f = c·H + h] = image[c][h][w]
///
/// A `[1, 28, 28]` Fashion-MNIST image becomes 28 steps of 28 features either way: top to
/// bottom, one row per step, or left to right, one column per step. For one channel, rows is
/// the image's own memory layout (PyTorch's `x.view(-1, 28, 28)`) and columns its transpose
/// (`x.view(-1, 28, 28).transpose(1, 2)`); with more channels a step holds each channel's row
/// (column) in turn.
///
/// The view is applied last, after normalization and augmentation have worked on the image in
/// its own `[C, H, W]` shape, so per-channel statistics, crops and flips mean what they mean
/// for images.
public enum SequenceView: String, Sendable, ConfigEnum {
    case rows, columns

    /// `[T, F]` for a `[C, H, W]` image shape.
    public func shape(of image: Shape) -> Shape {
        precondition(image.rank == 3, "a sequence view needs [C, H, W] samples, got \(image)")
        let (c, h, w) = (image[0], image[1], image[2])
        return self == .rows ? [h, c * w] : [w, c * h]
    }

    /// Whether the view is the image's memory layout, so batches need no rearranging.
    func isIdentity(for image: Shape) -> Bool { self == .rows && image[0] == 1 }

    /// Writes the `[C, H, W]` `image` as the `[T, F]` sequence `sequence` (another buffer of
    /// the same size).
    public func apply(_ image: UnsafePointer<Float>, shape: Shape,
                      into sequence: UnsafeMutablePointer<Float>) {
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        for c in 0..<channels {
            for h in 0..<height {
                let row = image + (c * height + h) * width
                switch self {
                case .rows:
                    (sequence + h * channels * width + c * width).update(from: row, count: width)
                case .columns:
                    let out = sequence + c * height + h
                    for w in 0..<width { out[w * channels * height] = row[w] }
                }
            }
        }
    }
}
