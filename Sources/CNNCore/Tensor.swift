/// A contiguous block of Float32 with a shape (row-major; NCHW for image batches, NTF for
/// sequence batches). A tensor either owns its memory or is a view into memory owned by another
/// object (a parameter arena, a planned activation buffer), which it keeps alive.
public final class Tensor {
    public let shape: Shape
    public let data: UnsafeMutablePointer<Float>
    private let owner: AnyObject?
    private let ownsData: Bool

    /// A new zero-filled tensor that owns its memory.
    public init(shape: Shape) {
        self.shape = shape
        self.data = .allocate(capacity: max(shape.count, 1))
        self.data.initialize(repeating: 0, count: max(shape.count, 1))
        self.owner = nil
        self.ownsData = true
    }

    /// A view of `shape.count` floats at `data`; `owner` is retained for the view's lifetime.
    public init(shape: Shape, viewing data: UnsafeMutablePointer<Float>, owner: AnyObject?) {
        self.shape = shape
        self.data = data
        self.owner = owner
        self.ownsData = false
    }

    public convenience init(shape: Shape, values: [Float]) {
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { if ownsData { data.deallocate() } }

    public var count: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }
    public var array: [Float] { Array(buffer) }

    /// The same memory under another shape with the same element count.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.count == count, "cannot view \(shape) as \(newShape)")
        return Tensor(shape: newShape, viewing: data, owner: self)
    }

    /// Sample `i` of a batched tensor, as a view.
    public func sample(_ i: Int) -> Tensor {
        let per = shape.sample.count
        return Tensor(shape: shape.sample, viewing: data + i * per, owner: self)
    }

    /// No NaN and no infinity.
    public var isFinite: Bool {
        for i in 0..<count where !data[i].isFinite { return false }
        return true
    }

    public func zero() { data.update(repeating: 0, count: count) }
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }
}

/// Floats a layer keeps beside its parameters at run time (weights repacked or transformed for
/// a kernel), allocated the first time they are used rather than when the layer is built: a
/// graph that is only described (`summarize`) or rejected before it runs allocates none of them.
public final class DeferredBuffer {
    public let count: Int
    private var storage: Tensor?

    public init(count: Int) { self.count = count }

    public var data: UnsafeMutablePointer<Float> {
        if let storage { return storage.data }
        let made = Tensor(shape: [count])
        storage = made
        return made.data
    }

    public func zero() { data.update(repeating: 0, count: count) }
}
