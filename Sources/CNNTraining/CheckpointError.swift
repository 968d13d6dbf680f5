import CNNCore

/// A problem reading or writing a checkpoint or run file (safetensors, metrics.csv, an atomic
/// write), said the way the config errors are: the file, then what was wrong and, where it helps,
/// what would be valid — `run/model.safetensors: tensor "c1.weight" has dtype F16; only F32 …`.
public struct CheckpointError: LocatedError {
    public var file: String?
    public var message: String

    public var location: String? { file }
}
