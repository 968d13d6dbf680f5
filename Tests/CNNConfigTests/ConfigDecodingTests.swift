import CNNConfig
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

private enum PoolKind: String, ConfigEnum, Equatable {
    case max, avg
}

private struct Padding2: Decodable, Equatable {
    var top: Int
    var left: Int?
}

private struct ConvSpec: Decodable, Equatable {
    var filters: Int
    var kernel: Int
    var stride: Int?
    var padding: [Int]?
    var rate: Double?
    var scale: Float?
    var small: Int32?
    var pool: PoolKind?
    var inner: Padding2?
    var bias: Bool?
}

/// A kernel written as `3` or `[3, 5]`, using the raw value.
private struct Kernel: Decodable, Equatable {
    var h: Int, w: Int
    init(h: Int, w: Int) { (self.h, self.w) = (h, w) }
    init(from decoder: Decoder) throws {
        switch decoder.jsonValue {
        case .int(let k)?: (h, w) = (k, k)
        case .array(let a)? where a.count == 2:
            var c = try decoder.unkeyedContainer()
            h = try c.decode(Int.self)
            w = try c.decode(Int.self)
        default: throw decoder.configError("expected an integer or [h, w]")
        }
    }
}

private struct KernelHolder: Decodable { var kernel: Kernel }

final class ConfigDecodingTests: XCTestCase {
    private let layerPath = "model.layers[1] (conv2d \"c1\")"

    /// The ConfigError thrown by `body`, failing the test if none (or another error) is thrown.
    private func configError<T>(_ body: () throws -> T, file: StaticString = #filePath,
                                line: UInt = #line) -> ConfigError? {
        do {
            let value = try body()
            XCTFail("expected a ConfigError, got \(value)", file: file, line: line)
        } catch let error as ConfigError {
            return error
        } catch {
            XCTFail("expected a ConfigError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    private func decodeConv(_ text: String) throws -> ConvSpec {
        try ConfigDecoder.decode(ConvSpec.self, from: JSONSource.parse(text, file: "net.json"),
                                 path: layerPath, file: "net.json")
    }

    // MARK: - JSONSource

    func testParsesValuesKeyOrderAndComments() throws {
        let text = """
        // a line comment
        {
          "zeta": 1, /* block */ "alpha": 2.5,
          "s": "x\\u00e9", "b": [true, false, null], "o": {}
        }
        """
        let value = try JSONSource.parse(text, file: "a.json")
        guard case .object(let object) = value else { return XCTFail("not an object: \(value)") }
        XCTAssertEqual(object.keys, ["zeta", "alpha", "s", "b", "o"])
        XCTAssertEqual(object["zeta"], .int(1))
        XCTAssertEqual(object["alpha"], .double(2.5))
        XCTAssertEqual(object["s"], .string("xé"))
        XCTAssertEqual(object["b"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(object["o"], .object(JSONObject()))
    }

    func testTopLevelScalarsAndIntVersusDouble() throws {
        XCTAssertEqual(try JSONSource.parse("123", file: nil), .int(123))
        XCTAssertEqual(try JSONSource.parse("6.0", file: nil), .double(6.0))
        XCTAssertEqual(try JSONSource.parse("true // done", file: nil), .bool(true))
        XCTAssertEqual(try JSONSource.parse("-9007199254740993", file: nil),
                       .int(-9007199254740993))
    }

    func testSyntaxErrorLineAndColumn() {
        let text = "{\n  \"a\": 1,\n  \"b\": 2 \"c\": 3\n}\n"
        let error = configError { try JSONSource.parse(text, file: "net.json") }
        XCTAssertEqual(error?.file, "net.json")
        XCTAssertEqual(error?.place, "3:10")
        XCTAssertEqual(error?.message,
                       "expected ',' or '}', found '\"'\n      \"b\": 2 \"c\": 3\n             ^")
    }

    func testUnexpectedCharacterPlace() {
        let text = "{\n  \"layers\": [\n    {\"type\": @}\n  ]\n}"
        let error = configError { try JSONSource.parse(text, file: nil) }
        XCTAssertEqual(error?.place, "3:14")
        XCTAssertEqual(error?.message.hasPrefix("unexpected '@'\n"), true, error?.message ?? "")
    }

    func testColumnsCountCharactersNotBytes() {
        let error = configError { try JSONSource.parse("{\"é\": 1 2}", file: nil) }
        XCTAssertEqual(error?.place, "1:9")
    }

    func testTrailingGarbage() {
        let error = configError { try JSONSource.parse("{\"a\": 1}\n// fine\n}", file: "t.json") }
        XCTAssertEqual(error?.place, "3:1")
        XCTAssertEqual(error?.message.hasPrefix("unexpected '}' after the end of the JSON value"),
                       true, error?.message ?? "")
        XCTAssertEqual(try JSONSource.parse("{\"a\": 1} /* ok */ \n", file: nil),
                       .object(JSONObject([("a", .int(1))])))
    }

    func testEmptyFile() {
        for text in ["", "  \n\t", "// only a comment\n/* and this */"] {
            let error = configError { try JSONSource.parse(text, file: "e.json") }
            XCTAssertEqual(error?.message, "empty file", "for \(text.debugDescription)")
            XCTAssertEqual(error?.file, "e.json")
        }
    }

    func testUnexpectedEndOfFile() {
        let unclosed = configError { try JSONSource.parse("{\n  \"a\": [1, 2\n", file: nil) }
        XCTAssertEqual(unclosed?.place, "3:1")
        XCTAssertEqual(unclosed?.message,
                       "unexpected end of file; the '[' at 2:8 is never closed (expected ']')")
        let string = configError { try JSONSource.parse("{\"a\": \"abc", file: nil) }
        XCTAssertEqual(string?.place, "1:7")
        XCTAssertEqual(string?.message.hasPrefix("unterminated string"), true)
        let comment = configError { try JSONSource.parse("{\"a\": 1} /* never", file: nil) }
        XCTAssertEqual(comment?.place, "1:10")
        XCTAssertEqual(comment?.message.hasPrefix("unterminated comment"), true)
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let depth = 10_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = configError { try JSONSource.parse(text, file: nil) }
        XCTAssertEqual(error?.place, "1:\(JSONSource.maxDepth + 1)")
        XCTAssertEqual(error?.message.hasPrefix("nesting too deep"), true, error?.message ?? "")
        // Up to the limit is fine.
        let ok = String(repeating: "[", count: JSONSource.maxDepth)
            + String(repeating: "]", count: JSONSource.maxDepth)
        XCTAssertNoThrow(try JSONSource.parse(ok, file: nil))
    }

    func testMissingFile() {
        let path = "/nonexistent-dir-for-cnnctl-tests/net.json"
        let error = configError { try JSONSource.load(path: path) }
        XCTAssertEqual(error?.file, path)
        XCTAssertEqual(error?.place, "")
        XCTAssertEqual(error?.message, "cannot open: No such file or directory")
    }

    func testLoadReadsFile() throws {
        let path = NSTemporaryDirectory() + "cnnctl-config-\(getpid()).json"
        try "{\"a\": [1, 2.5]} // end".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try JSONSource.load(path: path),
                       .object(JSONObject([("a", .array([.int(1), .double(2.5)]))])))
        let error = configError { try JSONSource.load(path: NSTemporaryDirectory()) }
        XCTAssertEqual(error?.message, "is a directory, not a regular file")
    }

    // MARK: - ConfigDecoder

    func testDecodesValidConfig() throws {
        let conv = try decodeConv("""
            {"filters": 6, "kernel": 5, "padding": [1, 2], "rate": 1, "scale": 0.5,
             "pool": "avg", "inner": {"top": 3}, "bias": false, "stride": null}
            """)
        XCTAssertEqual(conv, ConvSpec(filters: 6, kernel: 5, stride: nil, padding: [1, 2], rate: 1.0,
                                      scale: 0.5, small: nil, pool: .avg,
                                      inner: Padding2(top: 3, left: nil), bias: false))
    }

    func testIntegerVersusNumberMismatch() {
        let real = configError { try decodeConv("{\"filters\": 6.5, \"kernel\": 5}") }
        XCTAssertEqual(real?.file, "net.json")
        XCTAssertEqual(real?.place, "\(layerPath).filters")
        XCTAssertEqual(real?.message, "expected an integer, got a number (6.5)")

        let string = configError { try decodeConv("{\"filters\": \"five\", \"kernel\": 5}") }
        XCTAssertEqual(string?.message, "expected an integer, got a string (\"five\")")

        let boolean = configError { try decodeConv("{\"filters\": 1, \"kernel\": 5, \"bias\": 1}") }
        XCTAssertEqual(boolean?.place, "\(layerPath).bias")
        XCTAssertEqual(boolean?.message, "expected a boolean, got an integer (1)")

        let overflow = configError { try decodeConv("{\"filters\": 1, \"kernel\": 5, \"small\": 3000000000}") }
        XCTAssertEqual(overflow?.place, "\(layerPath).small")
        XCTAssertEqual(overflow?.message.hasPrefix("integer 3000000000 is out of range"), true)
    }

    func testMissingKey() {
        let error = configError { try decodeConv("{\"kernel\": 5}") }
        XCTAssertEqual(error?.place, layerPath)
        XCTAssertEqual(error?.message, "missing required key \"filters\"")
    }

    func testUnknownKeyWithSuggestion() {
        let error = configError { try decodeConv("{\"filters\": 6, \"kernel\": 5, \"filtres\": 6}") }
        XCTAssertEqual(error?.file, "net.json")
        XCTAssertEqual(error?.place, "\(layerPath).filtres")
        XCTAssertEqual(error?.message,
                       "unknown key \"filtres\"; valid keys: filters, kernel, stride, padding, rate, "
                       + "scale, small, pool, inner, bias (did you mean \"filters\"?)")
    }

    func testUnknownKeysReportedInFileOrder() {
        let error = configError {
            try decodeConv("{\"zzz\": 1, \"filters\": 6, \"kernel\": 5, \"strid\": 2}")
        }
        XCTAssertEqual(error?.place, "\(layerPath).zzz")
        XCTAssertEqual(error?.message.hasSuffix("inner, bias"), true, error?.message ?? "")
    }

    func testExtraKeysCountAsKnown() throws {
        let value = try JSONSource.parse("{\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 3}",
                                         file: nil)
        XCTAssertNotNil(configError {
            try ConfigDecoder.decode(ConvSpec.self, from: value, path: "", file: nil)
        })
        let conv = try ConfigDecoder.decode(ConvSpec.self, from: value, path: "", file: nil,
                                            extraKeys: ["type"])
        XCTAssertEqual(conv.filters, 1)
    }

    func testNestedObjectAndArrayPaths() {
        let element = configError {
            try decodeConv("{\"filters\": 6, \"kernel\": 5, \"padding\": [1, 2.5]}")
        }
        XCTAssertEqual(element?.place, "\(layerPath).padding[1]")
        XCTAssertEqual(element?.message, "expected an integer, got a number (2.5)")

        let nestedUnknown = configError {
            try decodeConv("{\"filters\": 6, \"kernel\": 5, \"inner\": {\"top\": 1, \"lft\": 2}}")
        }
        XCTAssertEqual(nestedUnknown?.place, "\(layerPath).inner.lft")
        XCTAssertEqual(nestedUnknown?.message,
                       "unknown key \"lft\"; valid keys: top, left (did you mean \"left\"?)")

        let nestedMissing = configError {
            try decodeConv("{\"filters\": 6, \"kernel\": 5, \"inner\": {\"left\": 1}}")
        }
        XCTAssertEqual(nestedMissing?.place, "\(layerPath).inner")
        XCTAssertEqual(nestedMissing?.message, "missing required key \"top\"")

        let notArray = configError { try decodeConv("{\"filters\": 6, \"kernel\": 5, \"padding\": 1}") }
        XCTAssertEqual(notArray?.place, "\(layerPath).padding")
        XCTAssertEqual(notArray?.message, "expected an array, got an integer (1)")
    }

    func testEmptyRootPath() {
        let error = configError {
            try ConfigDecoder.decode([String: [Int]].self, from: ["a": [1, "x"]], path: "", file: nil)
        }
        XCTAssertEqual(error?.place, "a[1]")
    }

    func testConfigEnumBadValueWithSuggestion() {
        let error = configError { try decodeConv("{\"filters\": 6, \"kernel\": 5, \"pool\": \"maxx\"}") }
        XCTAssertEqual(error?.place, "\(layerPath).pool")
        XCTAssertEqual(error?.message, "unknown value \"maxx\"; valid: max, avg (did you mean \"max\"?)")

        let wrongType = configError { try decodeConv("{\"filters\": 6, \"kernel\": 5, \"pool\": 2}") }
        XCTAssertEqual(wrongType?.message, "expected a string, got an integer (2)")
    }

    func testCustomTypeUsesRawValueAndConfigError() throws {
        XCTAssertEqual(try ConfigDecoder.decode(KernelHolder.self, from: ["kernel": 3], path: "k",
                                                file: nil).kernel, Kernel(h: 3, w: 3))
        XCTAssertEqual(try ConfigDecoder.decode(KernelHolder.self, from: ["kernel": [3, 5]], path: "k",
                                                file: nil).kernel, Kernel(h: 3, w: 5))
        let bad = configError {
            try ConfigDecoder.decode(KernelHolder.self, from: ["kernel": "big"], path: "k", file: "f")
        }
        XCTAssertEqual(bad?.place, "k.kernel")
        XCTAssertEqual(bad?.message, "expected an integer or [h, w]")
        let element = configError {
            try ConfigDecoder.decode(KernelHolder.self, from: ["kernel": [3, 1.5]], path: "k", file: "f")
        }
        XCTAssertEqual(element?.place, "k.kernel[1]")
    }

    func testForeignDecodingErrorsBecomeConfigErrors() {
        struct Picky: Decodable {
            init(from decoder: Decoder) throws {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "too picky"))
            }
        }
        struct Holder: Decodable { var p: [Picky] }
        let error = configError {
            try ConfigDecoder.decode(Holder.self, from: ["p": [nil]], path: "root", file: nil)
        }
        XCTAssertEqual(error?.place, "root.p[0]")
        XCTAssertEqual(error?.message, "too picky")
    }
}
