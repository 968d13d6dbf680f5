import CNNConfig
import CNNCore
#if canImport(Glibc)
import Glibc
#endif

/// Checkpoints in Hugging Face's safetensors format (https://huggingface.co/docs/safetensors),
/// so `safetensors.torch.load_file("model.safetensors")` opens a cnnctl checkpoint as it is:
///
///     [8 bytes]  N, the header length, unsigned little-endian
///     [N bytes]  JSON header: {"__metadata__": {string: string},
///                  NAME: {"dtype": "F32", "shape": [d0, …], "data_offsets": [b, e]}, …}
///                padded with spaces so N is a multiple of 8 (the data then starts 8-byte aligned)
///     [rest]     the tensors' raw little-endian bytes; NAME's are rest[b..<e], e − b = 4·∏dᵢ,
///                back to back with no gaps, in the order the header lists them
///
/// The format lets the header's keys come in any order; this writer emits compact JSON with
/// `__metadata__` first (its keys sorted), then the tensors in the order given, so the same
/// checkpoint always has the same bytes. An empty `metadata` omits `__metadata__`, as the
/// reference implementation does when no metadata is passed.
public enum SafeTensors {
    public typealias Entry = (name: String, shape: [Int], values: UnsafeBufferPointer<Float>)

    /// Writes `tensors` (float32) and `metadata` to `path` atomically (see `AtomicFile`).
    /// Duplicate or reserved names, negative dimensions and a shape whose product is not the
    /// number of values are errors.
    public static func write(_ tensors: [Entry], metadata: [String: String] = [:],
                             to path: String) throws {
        try prepare(tensors, metadata: metadata, to: path).commit()
    }

    /// As `write`, but only written and synced under a temporary name (`AtomicFile.prepare`).
    public static func prepare(_ tensors: [Entry], metadata: [String: String] = [:],
                               to path: String) throws -> AtomicFile.PendingFile {
        var seen = Set<String>()
        for tensor in tensors {
            func fail(_ message: String) -> CheckpointError {
                CheckpointError(file: path, message: "tensor \"\(tensor.name)\": \(message)")
            }
            guard tensor.name != "__metadata__" else {
                throw fail("the name __metadata__ is reserved for the header's metadata")
            }
            guard seen.insert(tensor.name).inserted else { throw fail("the name is used twice") }
            guard let count = elementCount(tensor.shape), count == tensor.values.count else {
                throw fail("shape \(tensor.shape) does not hold \(tensor.values.count) values")
            }
        }
        let header = self.header(tensors, metadata: metadata)
        return try AtomicFile.prepare(to: path) { emit in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try emit($0) }
            try header.withUnsafeBytes { try emit($0) }
            try emitLittleEndian(tensors, emit)
        }
    }

    /// Reads and validates a safetensors file; see `SafeTensorsFile` for what is checked. The
    /// header is read and checked against the file's size first; the tensors are read only then,
    /// and only if they need at most `maxDataBytes` (and the memory is available).
    public static func read(_ path: String, maxDataBytes: Int = Int.max) throws -> SafeTensorsFile {
        do {
            return try SafeTensorsFile(BoundedFile(path), maxDataBytes: maxDataBytes)
        } catch let error as FileError {
            throw CheckpointError(file: path, message: error.message)
        }
    }

    /// ∏ shape, or nil for a negative dimension or a product that overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The space-padded JSON header.
    static func header(_ tensors: [Entry], metadata: [String: String]) -> [UInt8] {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }
                .map { "\(JSONValue.quoted($0.key)):\(JSONValue.quoted($0.value))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.values.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(JSONValue.quoted(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                          + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array("{\(fields.joined(separator: ","))}".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }

    /// Streams every tensor's values as little-endian float32 through one reused 64 KiB buffer,
    /// so a large model is never copied whole and the bytes are right on any host byte order.
    private static func emitLittleEndian(
        _ tensors: [Entry], _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let chunk = 16_384
        let scratch = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: chunk)
        defer { scratch.deallocate() }
        for tensor in tensors {
            var start = 0
            while start < tensor.values.count {
                let n = min(chunk, tensor.values.count - start)
                for i in 0..<n { scratch[i] = tensor.values[start + i].bitPattern.littleEndian }
                try emit(UnsafeRawBufferPointer(start: scratch.baseAddress, count: 4 * n))
                start += n
            }
        }
    }

}
