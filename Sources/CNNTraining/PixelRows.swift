import CNNCore

/// A segmentation head's per-pixel logits `[n, K, H, W]` (channels first, as convolutions make
/// them) seen as `[n·H·W, K]` rows, one per pixel in the masks' row-major order, so that the
/// classification loss and metrics apply unchanged; and the rows' gradient written back in the
/// head's layout. The two buffers are sized once for the largest batch.
final class PixelRows {
    let classes: Int, area: Int
    private let rows: Tensor, rowGradients: Tensor

    /// For a head of shape `[K, H, W]`; nil for any other head.
    init?(head: Shape, maxBatch: Int) {
        guard head.rank == 3 else { return nil }
        classes = head[0]
        area = head[1] * head[2]
        rows = Tensor(shape: [maxBatch * area, classes])
        rowGradients = Tensor(shape: [maxBatch * area, classes])
    }

    /// The rows of `logits` `[n, K, H, W]`, as a view of the first `n·H·W` rows of the buffer.
    func rows(of logits: Tensor) -> Tensor {
        let n = logits.shape[0], (k, p) = (classes, area), x = logits.data, r = rows.data
        for b in 0..<n {
            for c in 0..<k {
                let plane = x + (b * k + c) * p, column = r + b * p * k + c
                for i in 0..<p { column[i * k] = plane[i] }
            }
        }
        return Tensor(shape: [n * p, k], viewing: rows.data, owner: rows)
    }

    /// A zeroed gradient for the rows of a batch of `n`, for a loss to add into.
    func rowGradient(batch n: Int) -> Tensor {
        let g = Tensor(shape: [n * area, classes], viewing: rowGradients.data, owner: rowGradients)
        g.zero()
        return g
    }

    /// Writes `rowGradient` (from `rowGradient(batch:)`) into `gradient` `[n, K, H, W]`.
    func write(_ rowGradient: Tensor, into gradient: Tensor) {
        let n = gradient.shape[0], (k, p) = (classes, area), g = rowGradient.data, out = gradient.data
        for b in 0..<n {
            for c in 0..<k {
                let plane = out + (b * k + c) * p, column = g + b * p * k + c
                for i in 0..<p { plane[i] = column[i * k] }
            }
        }
    }
}
