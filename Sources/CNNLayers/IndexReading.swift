/// A layer whose input holds indices into a table of `indexLimit` rows (an embedding's
/// vocabulary) rather than values: a dataset whose indices reach past that limit cannot run, so
/// the trainer compares the two before the first step instead of stopping the run at it.
public protocol IndexReading: Layer {
    var indexLimit: Int { get }
    /// The index that marks padding (an embedding's `padding_index`), if any.
    var paddingIndex: Int? { get }
}
