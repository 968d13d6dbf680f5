import CNNCore

/// The checks every loss makes on its arguments: one label per row of logits, smoothing in
/// [0, 1], a gradient the size of the logits. Rows are counted from the labels, so a batch of
/// sequences (`[n, T, C]` logits with `n·T` labels) needs no reshaped view. The trainer validates shapes against the data
/// before training, so a failure here is a programming error and traps with a message.
enum LossArguments {
    /// The number of rows `n` and of outputs per row.
    static func check(logits: Tensor, labels: UnsafeBufferPointer<Int32>, smoothing: Float,
                      gradient: Tensor?) -> (n: Int, outputs: Int) {
        let n = labels.count
        precondition(n > 0 && logits.count % n == 0, "\(n) labels for logits \(logits.shape)")
        precondition((0...1).contains(smoothing), "label smoothing \(smoothing) not in 0...1")
        if let gradient {
            precondition(gradient.count == logits.count, "gradient \(gradient.shape) for logits \(logits.shape)")
        }
        return (n, logits.count / n)
    }
}
