import CNNConfig
import CNNCore
import Foundation

/// A safetensors file read and validated (format: see `SafeTensors`), its header first: the
/// data section is read only once the header has been checked against the file's size and the
/// caller's bound. Every check a corrupt, truncated or foreign file could fail is made up front
/// and reported as a
/// `CheckpointError` naming the file — the header length against the file size, the header as
/// JSON, each entry's keys, dtype (F32; I64 is accepted but never read, for PyTorch's
/// `num_batches_tracked` buffers: cnnctl computes in float32 and never converts silently), shape, and `data_offsets` in range, matching the shape's byte count and tiling the
/// data section exactly (no gap, overlap or trailing bytes), as the reference reader requires.
public struct SafeTensorsFile: Sendable {
    public let path: String
    /// Tensor names in file order (by data offset).
    public let names: [String]
    public let metadata: [String: String]

    private struct Entry: Sendable {
        let shape: [Int]
        let count: Int
        let begin: Int  // byte offset in the data section
        let dtype: String
    }

    private let entries: [String: Entry]
    /// The data section: the bytes after the header.
    private let bytes: [UInt8]

    /// The shape of `name`, or nil when the file has no such tensor.
    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    public func values(of name: String) throws -> [Float] {
        let entry = try entry(name)
        return [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
            decode(entry, into: buffer)
            initialized = entry.count
        }
    }

    /// Copies `name`'s values straight into `destination` (a slice of a parameter arena), which
    /// must hold exactly as many values.
    public func copyValues(of name: String, into destination: UnsafeMutableBufferPointer<Float>)
        throws
    {
        let entry = try entry(name)
        guard entry.count == destination.count else {
            throw CheckpointError(file: path, message: "tensor \"\(name)\" has shape "
                                  + "\(entry.shape) (\(entry.count) values) but "
                                  + "\(destination.count) are expected")
        }
        decode(entry, into: destination)
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw CheckpointError(file: path, message: "no tensor \"\(name)\""
                                  + Suggestion.hint(for: name, among: names)
                                  + "; the file holds \(names.count) tensors")
        }
        guard entry.dtype == "F32" else {
            throw CheckpointError(file: path, message: "tensor \"\(name)\" is \(entry.dtype); cnnctl reads F32 "
                                  + "(float32) tensors only")
        }
        return entry
    }

    private func decode(_ entry: Entry, into destination: UnsafeMutableBufferPointer<Float>) {
        bytes.withUnsafeBytes { raw in
            for i in 0..<entry.count {
                let bits = raw.loadUnaligned(fromByteOffset: entry.begin + 4 * i, as: UInt32.self)
                destination[i] = Float(bitPattern: UInt32(littleEndian: bits))
            }
        }
    }

    /// Parses and validates `bytes`, the contents of `path`.
    /// The header's tensors, checked against the file's size before the data section is read.
    init(_ file: BoundedFile, maxDataBytes: Int) throws {
        let path = file.path
        func fail(_ message: String) -> CheckpointError {
            CheckpointError(file: path, message: message)
        }
        guard file.size >= 8 else {
            throw fail("file is \(file.size) bytes, too short for the 8-byte header length that "
                       + "starts a safetensors file")
        }
        let prefix = try file.read(at: 0, count: 8)
        let length = prefix.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(file.size - 8) else {
            throw fail("header length \(length) exceeds the \(file.size - 8) bytes that follow "
                       + "it (truncated, or not a safetensors file)")
        }
        guard length <= Self.maximumHeaderBytes else {
            throw fail("header length \(length) is more than the \(Self.maximumHeaderBytes) bytes a "
                       + "safetensors header may have")
        }
        let dataStart = 8 + Int(length), dataCount = file.size - dataStart
        let header = try file.read(at: 8, count: Int(length))
        try self.init(header: header, dataCount: dataCount, path: path) {
            guard dataCount <= maxDataBytes else {
                throw fail("holds \(ByteCount(dataCount)) of tensors, more than the \(ByteCount(maxDataBytes)) "
                           + "expected (is it another model's file?)")
            }
            try SystemMemory.require(dataCount, for: "its tensors", file: path)
            let data = try file.read(at: dataStart, count: dataCount)
            guard data.count == dataCount else { throw fail("file shrank while it was read") }
            return data
        }
    }

    /// The largest header accepted, as in the safetensors reference implementation (100 MB).
    static let maximumHeaderBytes: UInt64 = 100_000_000

    /// Parses and checks `header` against a data section of `dataCount` bytes, then reads that
    /// section with `readData`.
    private init(header headerBytes: [UInt8], dataCount: Int, path: String, readData: () throws -> [UInt8]) throws {
        func fail(_ message: String) -> CheckpointError {
            CheckpointError(file: path, message: message)
        }
        let header = try Self.parseHeader(Data(headerBytes), fail: fail)

        var metadata: [String: String] = [:]
        if let value = header["__metadata__"] {
            guard let object = value as? [String: Any] else {
                throw fail("header: __metadata__ is not a JSON object")
            }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard let text = value as? String else {
                    throw fail("header: __metadata__ \"\(key)\" is not a string")
                }
                metadata[key] = text
            }
        }

        var found: [(name: String, entry: Entry, end: Int)] = []
        // Sorted so that a file with several faults always reports the same one.
        for name in header.keys.sorted() where name != "__metadata__" {
            let (shape, count, begin, end, dtype) = try Self.parseEntry(header[name]!, dataCount: dataCount) {
                fail("tensor \"\(name)\": \($0)")
            }
            found.append((name, Entry(shape: shape, count: count, begin: begin, dtype: dtype), end))
        }
        // File order is data order; names break ties between empty tensors at one offset.
        found.sort { ($0.entry.begin, $0.end, $0.name) < ($1.entry.begin, $1.end, $1.name) }
        var covered = 0
        for (name, entry, end) in found {
            let begin = entry.begin
            guard begin == covered else {
                throw fail("tensor \"\(name)\": data_offsets [\(begin), \(end)] "
                           + (begin > covered ? "leave bytes \(covered)..<\(begin) unused"
                                              : "overlap the tensor before it"))
            }
            covered = end
        }
        guard covered == dataCount else {
            throw fail("the data section has \(dataCount) bytes but the tensors use only "
                       + "\(covered)")
        }
        self.path = path
        self.names = found.map(\.name)
        self.metadata = metadata
        self.entries = Dictionary(uniqueKeysWithValues: found.map { ($0.name, $0.entry) })
        self.bytes = try readData()
    }

    private static func parseHeader(_ data: Data, fail: (String) -> CheckpointError) throws
        -> [String: Any]
    {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw fail("header is not valid JSON" + (detail.map { ": \($0)" } ?? ""))
        }
        guard let object = json as? [String: Any] else { throw fail("header is not a JSON object") }
        return object
    }

    /// One tensor's shape and byte range within the data section, checked.
    private static func parseEntry(_ value: Any, dataCount: Int,
                                   fail: (String) -> CheckpointError) throws
        -> (shape: [Int], count: Int, begin: Int, end: Int, dtype: String)
    {
        let keys = ["dtype", "shape", "data_offsets"]
        guard let info = value as? [String: Any] else { throw fail("entry is not a JSON object") }
        if let unknown = info.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail("unknown key \"\(unknown)\"; an entry has dtype, shape and data_offsets")
        }
        if let missing = keys.first(where: { info[$0] == nil }) {
            throw fail("missing \"\(missing)\"")
        }
        guard let dtype = info["dtype"] as? String else { throw fail("dtype is not a string") }
        guard let size = ["F32": 4, "I64": 8][dtype] else {
            throw fail("dtype \(dtype) is not supported; cnnctl reads F32 (float32) tensors only")
        }
        guard let shape = naturals(info["shape"]!) else {
            throw fail("shape is not an array of non-negative integers")
        }
        guard let offsets = naturals(info["data_offsets"]!), offsets.count == 2 else {
            throw fail("data_offsets is not a pair of non-negative integers [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw fail("data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= dataCount else {
            throw fail("data_offsets [\(begin), \(end)] extend past the data section's "
                       + "\(dataCount) bytes (truncated file?)")
        }
        guard let count = SafeTensors.elementCount(shape), count <= Int.max / size,
              size * count == end - begin
        else {
            throw fail("shape \(shape) does not match data_offsets [\(begin), \(end)] "
                       + "(\(end - begin) bytes; \(dtype) takes \(size) per value)")
        }
        return (shape, count, begin, end, dtype)
    }

    /// The values of a JSON array of non-negative integers; nil for anything else. JSON numbers
    /// arrive as NSNumber, which also carries booleans ("c") and reals ("d", "f"): those are
    /// refused rather than rounded, as a strict JSON reader of unsigned integers would.
    private static func naturals(_ value: Any) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let number = element as? NSNumber,
                  !["c", "d", "f"].contains(String(cString: number.objCType)),
                  let integer = number as? Int, integer >= 0
            else { return nil }
            result.append(integer)
        }
        return result
    }
}
