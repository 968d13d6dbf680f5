import CNNCore
import XCTest

@testable import CNNData

final class TextCorpusTests: XCTestCase {
    /// 100 distinct letters U+0100 … U+0163 in code-point order, so each character's
    /// vocabulary index is its position in the text and a window's values show where it came
    /// from.
    let positional = String(String.UnicodeScalarView((0..<100).map {
        Unicode.Scalar(0x100 + $0)!
    }))

    private func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(type(of: error)): \(error)"
        }
    }

    func testLoadBuildsTheVocabularyFromTheFile() throws {
        let dir = TestFiles.directory("text-load")
        TestFiles.write(Array("ba\nab".utf8), to: "\(dir)/t.txt")
        let corpus = try TextCorpus.load("\(dir)/t.txt")
        XCTAssertEqual(corpus.vocabulary.symbols, ["\n", "a", "b"])
        // b a \n a b with \n = 0, a = 1, b = 2.
        XCTAssertEqual(corpus.indices, [2, 1, 0, 1, 2])
        try TestFiles.gzip("\(dir)/t.txt")
        XCTAssertEqual(try TextCorpus.load("\(dir)/t.txt.gz").indices, corpus.indices)
    }

    func testWindowLabelsAreTheInputsShiftedByOne() throws {
        let corpus = try TextCorpus(text: positional, file: "p")
        let data = try corpus.windows(samples: 6, length: 8, seed: 4, name: "w")
        XCTAssertEqual(data.sampleShape, [8])
        XCTAssertEqual(data.labelsPerSample, 8)
        XCTAssertEqual(data.labels.count, 48)
        XCTAssertEqual(data.classCount, 100)
        XCTAssertEqual(data.vocabulary, corpus.vocabulary)
        XCTAssertEqual(data.classNames?.first, "Ā")
        for i in 0..<6 {
            // The documented start: 0 + uniform in 0 ..< 100 − 8 from the window's generator.
            var rng = RNG(seed: mixSeed(4, 0x7E47, 0, UInt64(i)))
            let start = Permutation.below(92, rng: &rng)
            XCTAssertEqual(data.values[i * 8..<(i + 1) * 8].map { Int($0) },
                           Array(start..<start + 8))
            XCTAssertEqual(data.labels[i * 8..<(i + 1) * 8].map { Int($0) },
                           Array(start + 1...start + 8))
        }
    }

    func testWindowsAreSeeded() throws {
        let corpus = try TextCorpus(text: positional, file: "p")
        let a = try corpus.windows(samples: 5, length: 4, seed: 1, name: "a")
        XCTAssertEqual(try corpus.windows(samples: 5, length: 4, seed: 1, name: "b").values,
                       a.values)
        // Window i does not depend on how many are drawn.
        XCTAssertEqual(try corpus.windows(samples: 3, length: 4, seed: 1, name: "c").values,
                       Array(a.values[0..<12]))
        XCTAssertNotEqual(try corpus.windows(samples: 5, length: 4, seed: 2, name: "d").values,
                          a.values)
        XCTAssertNotEqual(try corpus.windows(samples: 5, length: 4, seed: 1, stream: 1,
                                             name: "e").values, a.values)
    }

    func testSplitValidatesOnTheHeldOutTailOnly() throws {
        let corpus = try TextCorpus(text: positional, file: "p")
        let (train, validation) = try corpus.split(validationFraction: 0.2, samples: 50,
                                                   length: 5, seed: 9, name: "t")
        // round(0.2 · 50) = 10 windows from the last round(0.2 · 100) = 20 characters (80…99),
        // the other 40 from characters 0…79, labels included.
        XCTAssertEqual(validation.count, 10)
        XCTAssertEqual(train.count, 40)
        XCTAssertTrue(validation.values.allSatisfy { $0 >= 80 })
        XCTAssertTrue(train.labels.allSatisfy { $0 < 80 })
        XCTAssertEqual(validation.name, "t (validation part)")
        XCTAssertEqual(validation.vocabulary, train.vocabulary)
        // Stream 1 over the tail: the first validation window starts at 80 + u, u < 20 − 5.
        var rng = RNG(seed: mixSeed(9, 0x7E47, 1, 0))
        XCTAssertEqual(Int(validation.values[0]), 80 + Permutation.below(15, rng: &rng))
    }

    func testFileErrors() throws {
        let dir = TestFiles.directory("text-errors")
        XCTAssertEqual(message { try TextCorpus.load("\(dir)/none.txt") },
                       "DataError: \(dir)/none.txt: cannot open: No such file or directory")
        TestFiles.write([], to: "\(dir)/empty.txt")
        XCTAssertEqual(message { try TextCorpus.load("\(dir)/empty.txt") },
                       "DataError: \(dir)/empty.txt: is empty; a text dataset needs text to cut "
                        + "into windows")
        // 0xFF never occurs in UTF-8; 0xC3 starts a two-byte sequence that "(" cannot end.
        let cases: [([UInt8], String)] = [([0x61, 0xFF, 0x62], "0xFF"),
                                          ([0x61, 0xC3, 0x28], "0xC3")]
        for (bytes, byte) in cases {
            TestFiles.write(bytes, to: "\(dir)/latin1.txt")
            XCTAssertEqual(message { try TextCorpus.load("\(dir)/latin1.txt") },
                           "DataError: \(dir)/latin1.txt: is not valid UTF-8: byte \(byte) at "
                            + "offset 1 does not start a well-formed sequence; convert the file "
                            + "first, e.g. `iconv -f LATIN1 -t UTF-8`")
        }
        let vocabulary = try Vocabulary(text: "ab".unicodeScalars)
        TestFiles.write(Array("abba\tb".utf8), to: "\(dir)/other.txt")
        XCTAssertEqual(message { try TextCorpus.load("\(dir)/other.txt", vocabulary: vocabulary) },
                       "DataError: \(dir)/other.txt: \\t (U+0009) at character 4 is not in the "
                        + "training text's vocabulary of 2 symbols")
    }

    func testWindowErrors() throws {
        let corpus = try TextCorpus(text: "abcde", file: "t.txt")
        XCTAssertEqual(message { try corpus.windows(samples: 1, length: 5, seed: 0, name: "w") },
                       "DataError: t.txt: the text has 5 characters (Unicode scalars); windows "
                        + "of sequence_length 5 need at least 6, since each window's labels run "
                        + "one character past it")
        XCTAssertEqual(message { try corpus.windows(samples: 1, length: 0, seed: 0, name: "w") },
                       "DataError: t.txt: sequence_length must be at least 1, got 0")
        XCTAssertEqual(message { try corpus.windows(samples: 0, length: 2, seed: 0, name: "w") },
                       "DataError: t.txt: the number of windows must be at least 1, got 0")
        // 4 of 5 characters: the longest window is 4 − 1 = 3 characters.
        XCTAssertEqual(try corpus.windows(samples: 1, length: 3, in: 1..<5, seed: 0,
                                          name: "w").values, [1, 2, 3])
        // round(0.2 · 5) = 1 held-out character cannot hold a window of 1 plus its label.
        XCTAssertEqual(message { try corpus.split(validationFraction: 0.2, samples: 10,
                                                  length: 1, seed: 0, name: "s") },
                       "DataError: t.txt: the held-out tail (0.2 of the 5-character text is held "
                        + "out) has 1 characters; windows of sequence_length 1 need at least 2")
        XCTAssertEqual(message { try corpus.split(validationFraction: 0.2, samples: 2,
                                                  length: 1, seed: 0, name: "s") },
                       "DataError: t.txt: a validation fraction of 0.2 of 2 windows is 0 "
                        + "windows; both the validation and the training part need at least 1")
        XCTAssertEqual(message { try TextCorpus(text: "", file: "e.txt") },
                       "DataError: e.txt: is empty; a text dataset needs text to cut into windows")
    }
}
