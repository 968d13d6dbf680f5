import XCTest

@testable import CNNData

final class VocabularyTests: XCTestCase {
    private func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testSortedDistinctScalarsWhateverTheOrderOfTheText() throws {
        let v = try Vocabulary(text: "hello world\n".unicodeScalars)
        // Code points: \n 0x0A < space 0x20 < d < e < h < l < o < r < w.
        XCTAssertEqual(v.symbols, ["\n", " ", "d", "e", "h", "l", "o", "r", "w"])
        XCTAssertEqual(try Vocabulary(text: "dlrow\nolleh ".unicodeScalars), v)
        XCTAssertEqual(v.count, 9)
        XCTAssertEqual(v.index(of: "l"), 5)
        XCTAssertNil(v.index(of: "z"))
        XCTAssertEqual(v.displayNames, ["\\n", "space", "d", "e", "h", "l", "o", "r", "w"])
    }

    func testEncodeDecodeRoundTrip() throws {
        let text = "naïve café\t🙂\r\n"
        let v = try Vocabulary(text: text.unicodeScalars)
        let encoded = try v.encode(text)
        // One index per Unicode scalar: n a ï v e, space, c a f é, tab, 🙂, \r, \n = 14.
        XCTAssertEqual(encoded.count, 14)
        XCTAssertEqual(v.decode(encoded), text)
        let hello = try Vocabulary(text: "hello world\n".unicodeScalars)
        // Indices from the sorted symbols above: h 4, e 3, l 5, l 5, o 6.
        XCTAssertEqual(try hello.encode("hello"), [4, 3, 5, 5, 6])
        XCTAssertEqual(hello.decode([4, 3, 9, -1]), "he\u{FFFD}\u{FFFD}")
        XCTAssertEqual(message { try hello.encode("help") },
                       "p (U+0070) at character 3 is not in the vocabulary of 9 symbols")
        XCTAssertEqual(message { try hello.encode("ho\u{1B}") },
                       "U+001B at character 2 is not in the vocabulary of 9 symbols")
    }

    func testDisplayNamesOfInvisibleSymbols() {
        XCTAssertEqual(Vocabulary.displayName(of: "\u{08}"), "U+0008")
        XCTAssertEqual(Vocabulary.displayName(of: "\u{A0}"), "U+00A0")
        XCTAssertEqual(Vocabulary.displayName(of: "\u{301}"), "U+0301")
        XCTAssertEqual(Vocabulary.displayName(of: "é"), "é")
        XCTAssertEqual(Vocabulary.displayName(of: "\\"), "\\")
    }

    func testSerializationRoundTrip() throws {
        let v = try Vocabulary(text: "a\"\\\n \u{08}é🙂/".unicodeScalars)
        // Sorted: U+0008, \n, space, ", /, \, a, é, 🙂; quote and backslash escaped, controls
        // as \n or \u00XX (RFC 8259 section 7), the rest literal.
        XCTAssertEqual(v.serialized(), #"["\u0008","\n"," ","\"","/","\\","a","é","🙂"]"#)
        XCTAssertEqual(try Vocabulary(serialized: v.serialized()), v)
        // Any JSON spelling of the same strings reads the same.
        XCTAssertEqual(try Vocabulary(serialized: #"["\u0061", "b"]"#).symbols, ["a", "b"])
    }

    func testBadSerializationsAndSymbolLists() {
        XCTAssertEqual(message { try Vocabulary(serialized: "{\"a\": 1}") },
                       "a serialized vocabulary must be a JSON array of one-character strings; "
                        + "cannot read {\"a\": 1}")
        XCTAssertEqual(message { try Vocabulary(serialized: #"["a", "bc"]"#) },
                       "serialized vocabulary entry 1 holds 2 Unicode scalars; each must hold "
                        + "exactly one")
        XCTAssertEqual(message { try Vocabulary(serialized: #"["a", " ", "a"]"#) },
                       "vocabulary symbol a (U+0061) appears twice (at 0 and 2); symbols must be "
                        + "distinct")
        XCTAssertEqual(message { try Vocabulary(serialized: "[]") },
                       "a vocabulary needs at least one symbol")
    }
}
