/// The named, arena-sized state arrays of an optimizer (momentum buffers, moments): zeroed and
/// allocated once — at construction when the arena size is given, else on the first step or
/// restore — then reused by every step; exported and restored for checkpoints.
final class OptimizerState {
    /// `optimizer.<name>` for each buffer, in `buffers` order.
    let names: [String]
    /// For messages: `optimizer state (adam)`.
    let component: String
    /// The buffers that are running means of squares (`exp_avg_sq`, `square_avg`): a negative
    /// value there would be a square root of a negative number at the next step.
    let squares: Set<String>
    private(set) var buffers: [UnsafeMutablePointer<Float>] = []
    private(set) var count = 0

    init(optimizer: String, names: [String], squares: Set<String> = [], count: Int?) {
        self.names = names.map { "optimizer.\($0)" }
        self.squares = Set(squares.map { "optimizer.\($0)" })
        component = "optimizer state (\(optimizer))"
        if let count, !names.isEmpty { allocate(count: count) }
    }

    deinit { buffers.forEach { $0.deallocate() } }

    /// Allocates zeroed buffers covering every group if not done yet. Groups always span the
    /// same arena, so groups reaching past the buffers are a programming error (a wrong
    /// `parameterCount`, or state restored without one from another model).
    func prepare(for groups: [ParameterGroup]) {
        let needed = groups.reduce(0) { max($0, $1.range.upperBound) }
        if buffers.isEmpty && !names.isEmpty {
            allocate(count: needed)
        }
        precondition(names.isEmpty || needed <= count,
                     "\(component) holds \(count) values but the parameters reach \(needed)")
    }

    private func allocate(count: Int) {
        buffers.forEach { $0.deallocate() }
        buffers = names.map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            return p
        }
        self.count = count
    }

    /// Empty arrays while nothing is allocated (a fresh optimizer), so a checkpoint taken
    /// before the first step restores too.
    func tensors() -> [(name: String, values: [Float])] {
        if buffers.isEmpty { return names.map { ($0, []) } }
        return zip(names, buffers).map { ($0, Array(UnsafeBufferPointer(start: $1, count: count))) }
    }

    func restore(_ tensors: [String: [Float]]) throws {
        if names.isEmpty { return }
        var arrays: [[Float]] = []
        for name in names {
            guard let values = tensors[name] else {
                let present = tensors.keys.sorted().joined(separator: ", ")
                throw TrainingStateError(
                    component: component,
                    message: "missing tensor \"\(name)\" (needs \(names.joined(separator: ", "))"
                        + "; the checkpoint has \(present.isEmpty ? "none" : present)); "
                        + "was it saved with another optimizer?")
            }
            arrays.append(values)
        }
        let sizes = Set(arrays.map(\.count))
        guard sizes.count == 1, let size = sizes.first else {
            throw TrainingStateError(component: component, message: "tensors differ in size: "
                + zip(names, arrays).map { "\($0) has \($1.count)" }.joined(separator: ", "))
        }
        if size == 0 {
            // Saved before the first step: the state is all zeros.
            for buffer in buffers { buffer.update(repeating: 0, count: count) }
            return
        }
        if !buffers.isEmpty && size != count {
            throw TrainingStateError(component: component,
                                     message: "has \(size) values per tensor, the model \(count)")
        }
        // Checked before anything is restored: damaged moments would only show as a diverged
        // loss steps later, with nothing pointing at the file.
        for (name, values) in zip(names, arrays) {
            if let i = values.firstIndex(where: { !$0.isFinite || squares.contains(name) && $0 < 0 }) {
                throw TrainingStateError(component: component, message: "tensor \"\(name)\" holds \(values[i]) at "
                                         + "index \(i), which no training step can produce")
            }
        }
        if buffers.isEmpty { allocate(count: size) }
        for (buffer, values) in zip(buffers, arrays) {
            values.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: size) }
        }
    }
}
