import Foundation
import XCTest

@testable import CNNTraining

final class CheckpointTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cnnctl-ckpt-\(getpid())-\(name.filter(\.isLetter))").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory,
                                                withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes `tensors` (arrays) through the buffer-based API.
    private func write(_ tensors: [(String, [Int], [Float])], metadata: [String: String] = [:],
                       to path: String) throws {
        let buffers = tensors.map { t -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(t.2.count, 1))
            _ = buffer.initialize(from: t.2)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let entries = zip(tensors, buffers).map { t, buffer in
            (name: t.0, shape: t.1, values: UnsafeBufferPointer(rebasing: buffer[..<t.2.count]))
        }
        try SafeTensors.write(entries, metadata: metadata, to: path)
    }

    /// A file from a hand-written header (padded to a multiple of 8 like the writer's) and data;
    /// `length` overrides the header-length field.
    private func raw(_ header: String, _ data: [UInt8], length: UInt64? = nil) throws -> String {
        var text = Array(header.utf8)
        text += repeatElement(UInt8(ascii: " "), count: (8 - text.count % 8) % 8)
        let n = length ?? UInt64(text.count)
        let file = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + text + data
        let path = directory + "/raw.safetensors"
        try AtomicFile.write(file, to: path)
        return path
    }

    private func assertReadError(_ path: String, _ message: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.read(path), file: file, line: line) { error in
            XCTAssertEqual("\(error)", "\(path): \(message)", file: file, line: line)
        }
    }

    func testTinyFileHasTheBytesTheSpecPrescribes() throws {
        let path = directory + "/tiny.safetensors"
        try write([("a", [2], [1, -2])], metadata: ["k": "v"], to: path)
        // Header by hand, {"__metadata__":{"k":"v"},
        // "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} without the line break,
        // = 1 + 14 + 1 + 9 + 1 + 3 + 1 + 1 + 7+1+5 + 1 + 7+1+3 + 1 + 14+1+5 + 1 + 1 = 79 bytes,
        // padded with one space to 80 = 0x50. Data: 1.0 = 0x3F800000 and −2.0 = 0xC0000000,
        // little-endian.
        let header = #"{"__metadata__":{"k":"v"},"#
            + #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} "#
        let expected: [UInt8] = [0x50, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
            + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
        XCTAssertEqual(try bytes(path), expected)
        XCTAssertEqual(try bytes(path).count, 96)
    }

    func testWithoutMetadataTheHeaderHasNoMetadataEntry() throws {
        let path = directory + "/plain.safetensors"
        try write([("w", [1, 1], [0.5])], to: path)
        // {"w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}} is 56 bytes, a multiple of 8:
        // no padding. 0.5 = 0x3F000000.
        let header = #"{"w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}"#
        XCTAssertEqual(try bytes(path), [56, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
                       + [0, 0, 0, 0x3F])
        XCTAssertEqual(try SafeTensors.read(path).metadata, [:])
    }

    func testRoundTripKeepsOrderShapesValuesAndMetadata() throws {
        let special: [Float] = [-0.0, .infinity, -.infinity, .leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234)]
        let tensors: [(String, [Int], [Float])] = [
            ("z.weight", [2, 3], special),
            ("empty", [0, 4], []),
            ("a.bias", [3], [1.5, -2.25, 3e-8]),
            ("scalar", [], [42]),
            ("é \"quoted\" \\ name", [1], [7]),
        ]
        let metadata = ["step": "12", "progress": #"{"epoch": 3, "note": "a\tb\nc"}"#,
                        "control": "\u{01}", "unicode": "Ünïcødé —"]
        let path = directory + "/round.safetensors"
        try write(tensors, metadata: metadata, to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.names, tensors.map(\.0))
        XCTAssertEqual(file.metadata, metadata)
        for (name, shape, values) in tensors {
            XCTAssertEqual(file.shape(of: name), shape)
            XCTAssertEqual(try file.values(of: name).map(\.bitPattern), values.map(\.bitPattern))
        }
        // The header is JSON Foundation reads too, with the data 8-byte aligned.
        let all = try bytes(path)
        let length = Int(all[0]) | Int(all[1]) << 8
        XCTAssertEqual(length % 8, 0)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(all[8..<(8 + length)])))
    }

    func testCopyValuesAndMissingNames() throws {
        let path = directory + "/copy.safetensors"
        try write([("c1.weight", [2, 2], [1, 2, 3, 4]), ("c1.bias", [2], [5, 6])], to: path)
        let file = try SafeTensors.read(path)
        var arena = [Float](repeating: 0, count: 7)
        try arena.withUnsafeMutableBufferPointer {
            try file.copyValues(of: "c1.bias",
                                into: UnsafeMutableBufferPointer(rebasing: $0[1..<3]))
            XCTAssertThrowsError(try file.copyValues(of: "c1.weight", into: $0)) { error in
                XCTAssertEqual("\(error)", "\(path): tensor \"c1.weight\" has shape [2, 2] "
                               + "(4 values) but 7 are expected")
            }
        }
        XCTAssertEqual(arena, [0, 5, 6, 0, 0, 0, 0])
        XCTAssertNil(file.shape(of: "c1.weigth"))
        XCTAssertThrowsError(try file.values(of: "c1.weigth")) { error in
            XCTAssertEqual("\(error)", "\(path): no tensor \"c1.weigth\" (did you mean "
                           + "\"c1.weight\"?); the file holds 2 tensors")
        }
    }

    func testReaderTakesAnyKeyOrderAndOrdersByOffset() throws {
        // The format allows any key order and whitespace; file order is data order.
        let header = #"{ "b": {"data_offsets": [4, 8], "shape": [1], "dtype": "F32"},"#
            + #" "__metadata__": {"x": "y"},"#
            + #" "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} }"#
        let path = try raw(header, [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.names, ["a", "b"])
        XCTAssertEqual(try file.values(of: "a"), [1])  // 0x3F800000
        XCTAssertEqual(try file.values(of: "b"), [2])  // 0x40000000
        XCTAssertEqual(file.metadata, ["x": "y"])
    }

    func testCorruptFilesAreErrorsNamingTheProblem() throws {
        let good = directory + "/good.safetensors"
        try write([("a", [2], [1, 2])], to: good)
        let all = try bytes(good)
        let cut = directory + "/cut.safetensors"
        try AtomicFile.write(Array(all.dropLast(4)), to: cut)
        assertReadError(cut, "tensor \"a\": data_offsets [0, 8] extend past the data section's "
                        + "4 bytes (truncated file?)")
        try AtomicFile.write(Array(all.prefix(3)), to: cut)
        assertReadError(cut, "file is 3 bytes, too short for the 8-byte header length that starts "
                        + "a safetensors file")

        let entry = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#  // 56 bytes
        let eight = [UInt8](repeating: 0, count: 8)
        assertReadError(try raw(entry, eight, length: 1_000_000), "header length 1000000 exceeds "
                        + "the 64 bytes that follow it (truncated, or not a safetensors file)")
        XCTAssertThrowsError(try SafeTensors.read(try raw(#"{"a": "#, eight))) { error in
            XCTAssertTrue("\(error)".contains(": header is not valid JSON"), "\(error)")
        }
        let cases: [(String, [UInt8], String)] = [
            ("[1, 2]", [], "header is not a JSON object"),
            (#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, [0, 0, 0, 0],
             "tensor \"h\": dtype F16 is not supported; cnnctl reads F32 (float32) tensors only"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, eight,
             "tensor \"a\": data_offsets [0, 16] extend past the data section's 8 bytes "
             + "(truncated file?)"),
            (#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, eight,
             "tensor \"a\": data_offsets [8, 4] end before they begin"),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight,
             "tensor \"a\": shape [3] does not match data_offsets [0, 8] (8 bytes; F32 takes 4 "
             + "per value)"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight,
             "tensor \"a\": data_offsets [4, 8] leave bytes 0..<4 unused"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
             + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight,
             "tensor \"b\": data_offsets [4, 8] overlap the tensor before it"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, eight,
             "the data section has 8 bytes but the tensors use only 4"),
            (#"{"a":{"dtype":"F32","shape":[1],"offsets":[0,4]}}"#, eight,
             "tensor \"a\": unknown key \"offsets\"; an entry has dtype, shape and data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[1]}}"#, eight,
             "tensor \"a\": missing \"data_offsets\""),
            (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, eight,
             "tensor \"a\": shape is not an array of non-negative integers"),
            (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, eight,
             "tensor \"a\": shape is not an array of non-negative integers"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, eight,
             "tensor \"a\": data_offsets is not a pair of non-negative integers [begin, end]"),
            (#"{"__metadata__":{"step":3}}"#, [], "header: __metadata__ \"step\" is not a string"),
            (#"{"a":[1]}"#, [], "tensor \"a\": entry is not a JSON object"),
        ]
        for (header, data, message) in cases {
            assertReadError(try raw(header, data), message)
        }
        assertReadError(directory + "/none.safetensors", "cannot open: No such file or directory")
    }

    /// The header is believed only after it is checked against the file's size, and the data
    /// only within the caller's bound: a sparse 10 GiB file is refused unread.
    func testSizesAreCheckedBeforeTheDataIsRead() throws {
        let header = #"{"big":{"dtype":"F32","shape":[2684354560],"data_offsets":[0,10737418240]}}"#
        let path = try raw(header, [])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: handle.seekToEndOfFile() + 10_737_418_240)
        try handle.close()
        XCTAssertThrowsError(try SafeTensors.read(path, maxDataBytes: 1 << 20)) { error in
            XCTAssertEqual("\(error)", "\(path): holds 10.00 GiB of tensors, more than the 1.00 MiB expected "
                           + "(is it another model's file?)")
        }
        let short = try raw(header, [0, 0, 0, 0])
        assertReadError(short, "tensor \"big\": data_offsets [0, 10737418240] extend past the data section's 4 bytes "
                        + "(truncated file?)")
        // A header length within a (sparse) file, but past the format's limit, is not read.
        let oversized = try raw("{}", [], length: 200_000_000)
        let sparse = try XCTUnwrap(FileHandle(forWritingAtPath: oversized))
        try sparse.truncate(atOffset: 300_000_000)
        try sparse.close()
        assertReadError(oversized, "header length 200000000 is more than the 100000000 bytes a safetensors header "
                        + "may have")
    }

    func testWriterRefusesBadTensorsAndLeavesNoFile() throws {
        let path = directory + "/bad.safetensors"
        let cases: [([(String, [Int], [Float])], String)] = [
            ([("a", [1], [1]), ("a", [1], [2])], "tensor \"a\": the name is used twice"),
            ([("__metadata__", [1], [1])],
             "tensor \"__metadata__\": the name __metadata__ is reserved for the header's "
             + "metadata"),
            ([("a", [2, 2], [1, 2, 3])], "tensor \"a\": shape [2, 2] does not hold 3 values"),
            ([("a", [-1], [1])], "tensor \"a\": shape [-1] does not hold 1 values"),
        ]
        for (tensors, message) in cases {
            XCTAssertThrowsError(try write(tensors, to: path)) { error in
                XCTAssertEqual("\(error)", "\(path): \(message)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testAtomicFileReplacesContentsAndLeavesNoTemporary() throws {
        let path = directory + "/metrics.csv"
        try AtomicFile.write("old contents that are longer\n", to: path)
        try AtomicFile.write("new\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory),
                       ["metrics.csv"])
    }

    func testAtomicFileKeepsTheOldFileWhenWritingFails() throws {
        struct Interrupted: Error {}
        let path = directory + "/model.safetensors"
        try AtomicFile.write([1, 2, 3], to: path)
        // The writer dies half-way: the temporary file has part of the data, PATH is untouched.
        XCTAssertThrowsError(try AtomicFile.write(to: path) { emit in
            try [UInt8](repeating: 9, count: 1000).withUnsafeBytes { try emit($0) }
            let files = try FileManager.default.contentsOfDirectory(atPath: self.directory)
            XCTAssertEqual(files.sorted(), ["model.safetensors", "model.safetensors.tmp-\(getpid())"])
            throw Interrupted()
        }) { XCTAssertTrue($0 is Interrupted) }
        XCTAssertEqual(try bytes(path), [1, 2, 3])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory),
                       ["model.safetensors"])
    }

    func testAtomicFileInAMissingDirectoryIsAnError() {
        let path = directory + "/no/such/dir/x.csv"
        XCTAssertThrowsError(try AtomicFile.write("x", to: path)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot create \(path).tmp-\(getpid()): "
                           + "No such file or directory")
        }
    }
}
