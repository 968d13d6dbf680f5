import CNNGraph
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint is two safetensors files: `NAME.safetensors` holds the model — every parameter
/// and running statistic under its PyTorch-style name (`c1.weight`, `bn1.running_mean`), so
/// other tools open it — and `NAME.state.safetensors` holds the optimizer's moments, with the
/// training progress as JSON in its metadata. Both carry the step.
///
/// They change as one unit: both are written and synced under temporary names before either is
/// renamed into place (`AtomicFile.prepare`), so a failed write (a full disk) leaves the previous
/// pair whole. The renames are two, so the previous state is kept as `NAME.previous.state.
/// safetensors` until both are done: after a crash between them, resume finds the state that
/// matches the weights' step there.
public enum TrainingCheckpoint {
    public static func weightsPath(_ directory: String, _ name: String) -> String { "\(directory)/\(name).safetensors" }
    public static func statePath(_ directory: String, _ name: String) -> String { "\(directory)/\(name).state.safetensors" }
    static func previousStatePath(_ directory: String, _ name: String) -> String {
        "\(directory)/\(name).previous.state.safetensors"
    }

    public static func save(executor: Executor, optimizer: any Optimizer, progress: TrainingProgress,
                            directory: String, name: String, metadata extra: [String: String] = [:]) throws {
        // Sorted keys: a dictionary's order differs from process to process, and the same run
        // must write the same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let progressJSON = String(decoding: try encoder.encode(progress), as: UTF8.self)
        let stepText = String(progress.step)
        let state = optimizer.stateTensors()
        let statePath = statePath(directory, name), previous = previousStatePath(directory, name)
        let pendingState = try withBuffers(state.map { ($0.name, [$0.values.count], $0.values) }) { tensors in
            try SafeTensors.prepare(tensors, metadata: ["format": "cnnctl-state", "step": stepText,
                                                        "optimizer_steps": String(optimizer.stepCount),
                                                        "progress": progressJSON],
                                    to: statePath)
        }
        let pendingWeights = try prepareWeights(
            executor: executor, metadata: extra.merging(["step": stepText, "epoch": String(progress.epoch)]) { $1 },
            to: weightsPath(directory, name))
        unlink(previous)
        if link(statePath, previous) != 0 && errno != ENOENT {
            throw CheckpointError(file: previous,
                                  message: "cannot keep the previous state: \(String(cString: strerror(errno)))")
        }
        try pendingState.commit()
        try pendingWeights.commit()
        unlink(previous)
    }

    /// Writes the model's parameters and running statistics.
    public static func saveWeights(executor: Executor, metadata: [String: String], to path: String) throws {
        try prepareWeights(executor: executor, metadata: metadata, to: path).commit()
    }

    static func prepareWeights(executor: Executor, metadata: [String: String], to path: String) throws
        -> AtomicFile.PendingFile {
        let tensors = executor.graph.parameters.enumerated().map { i, p in
            (name: p.name, shape: p.spec.shape.dims,
             values: UnsafeBufferPointer(start: executor.parameters.data + executor.parameterOffsets[i],
                                         count: p.spec.shape.count))
        }
        var meta = metadata
        meta["format"] = "cnnctl"
        meta["model"] = executor.graph.name
        return try withExtendedLifetime(executor) {
            try SafeTensors.prepare(tensors, metadata: meta, to: path)
        }
    }

    /// Loads weights that must match the model exactly (every tensor present, same shapes);
    /// returns the file's metadata.
    @discardableResult
    public static func loadWeights(_ path: String, into executor: Executor) throws -> [String: String] {
        let file = try SafeTensors.read(path, maxDataBytes: plausibleBytes(executor.parameters.count, copies: 1))
        let params = executor.graph.parameters
        let modelNames = Set(params.map(\.name))
        var problems: [String] = []
        for p in params {
            guard let shape = file.shape(of: p.name) else { problems.append("missing \(p.name)"); continue }
            if shape != p.spec.shape.dims {
                problems.append("\(p.name) has shape \(shape) in the file, \(p.spec.shape.dims) in the model")
            }
        }
        // PyTorch's batch-norm step counters have no counterpart here (`InitFromSpec.isIgnored`).
        let extra = file.names.filter { !modelNames.contains($0) && !InitFromSpec.isIgnored($0) }
        if !extra.isEmpty { problems.append("not in the model: " + extra.prefix(5).joined(separator: ", ")
                                            + (extra.count > 5 ? " and \(extra.count - 5) more" : "")) }
        guard problems.isEmpty else {
            throw CheckpointError(file: path, message: "does not match model \"\(executor.graph.name)\": "
                                  + problems.prefix(6).joined(separator: "; ")
                                  + " (was it trained with another config? init_from loads partial matches)")
        }
        for (i, p) in params.enumerated() {
            copy(try file.values(of: p.name), into: executor, at: executor.parameterOffsets[i])
        }
        return file.metadata
    }

    /// Restores the optimizer from the state file and returns the progress; checks that the state
    /// belongs to the weights' step.
    public static func loadState(directory: String, name: String, weightsMetadata: [String: String],
                                 optimizer: any Optimizer, parameterCount: Int) throws -> TrainingProgress {
        var path = statePath(directory, name)
        let bound = plausibleBytes(parameterCount, copies: 4)
        var file = try SafeTensors.read(path, maxDataBytes: bound)
        let previous = previousStatePath(directory, name)
        if file.metadata["step"] != weightsMetadata["step"], FileManager.default.fileExists(atPath: previous) {
            // A crash between the two renames of `save`: the previous state belongs to these weights.
            let earlier = try SafeTensors.read(previous, maxDataBytes: bound)
            if earlier.metadata["step"] == weightsMetadata["step"] { (path, file) = (previous, earlier) }
        }
        guard let json = file.metadata["progress"] else {
            throw CheckpointError(file: path, message: "has no training progress in its metadata (not a cnnctl state file)")
        }
        guard let progress = try? JSONDecoder().decode(TrainingProgress.self, from: Data(json.utf8)) else {
            throw CheckpointError(file: path, message: "its training progress is not a progress record (JSON with "
                                  + "finite numbers of the right types): \(json.prefix(200))")
        }
        guard file.metadata["step"] == weightsMetadata["step"] else {
            throw CheckpointError(file: path, message: "is from step \(file.metadata["step"] ?? "?") but the weights are "
                                  + "from step \(weightsMetadata["step"] ?? "?"): the run was interrupted while saving; "
                                  + "resume from best.safetensors or start again")
        }
        var tensors: [String: [Float]] = [:]
        for n in file.names { tensors[n] = try file.values(of: n) }
        do {
            try optimizer.restore(tensors)
        } catch let error as TrainingStateError {
            throw CheckpointError(file: path, message: error.description)
        }
        let optimizerSteps = Int(file.metadata["optimizer_steps"] ?? "") ?? progress.step
        // The progress record itself is checked against the run by the trainer (a negative step
        // is its error to report).
        guard progress.step < 0 || (0...progress.step).contains(optimizerSteps) else {
            throw CheckpointError(file: path, message: "optimizer_steps \(optimizerSteps) is not in "
                                  + "0...\(progress.step), the steps of its progress record")
        }
        optimizer.stepCount = optimizerSteps
        return progress
    }

    /// A bound on the tensor bytes of a file meant for `copies` float copies of the parameters:
    /// twice that, and at least 64 MiB, so that another model's checkpoint is still read far
    /// enough to be told apart by name, while a file claiming absurd sizes is refused unread.
    static func plausibleBytes(_ parameterCount: Int, copies: Int) -> Int {
        2 * 4 * copies * parameterCount + (64 << 20)
    }

    static func copy(_ values: [Float], into executor: Executor, at offset: Int) {
        values.withUnsafeBufferPointer { (executor.parameters.data + offset).update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Runs `body` with buffer views of arrays (kept alive for the call).
    private static func withBuffers<T>(_ arrays: [(String, [Int], [Float])],
                                       _ body: ([(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)]) throws -> T)
        throws -> T {
        let storage = arrays.map { ($0.0, $0.1, UnsafeMutableBufferPointer<Float>.allocate(capacity: max($0.2.count, 1))) }
        defer { storage.forEach { $0.2.deallocate() } }
        for (k, a) in arrays.enumerated() { _ = storage[k].2.initialize(from: a.2) }
        return try body(storage.enumerated().map { k, s in (s.0, s.1, UnsafeBufferPointer(start: s.2.baseAddress, count: arrays[k].2.count)) })
    }
}
