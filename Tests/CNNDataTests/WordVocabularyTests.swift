import XCTest

@testable import CNNData

/// The word tokenizer (Keras' `text_to_word_sequence` rule) and the word vocabulary.
final class WordVocabularyTests: XCTestCase {
    func testTokenizerFollowsKeras() {
        // Keras 2.15: text_to_word_sequence("Don't PANIC! It's 4:30 -- the e-mail\tsaid: \"read-me\"")
        XCTAssertEqual(WordVocabulary.tokenize("Don't PANIC! It's 4:30 -- the e-mail\tsaid: \"read-me\""),
                       ["don't", "panic", "it's", "4", "30", "the", "e", "mail", "said", "read", "me"])
        XCTAssertEqual(WordVocabulary.tokenize("Ünïcode  ÉCOLE\u{00A0}café\n\nx"), ["ünïcode", "école", "café", "x"])
        XCTAssertEqual(WordVocabulary.tokenize(" ,.;  "), [])
    }

    func testOrderIsCountThenCodePointWithMinimumAndSize() throws {
        let texts = [["b", "a", "c", "a"], ["c", "d", "a", "e", "é"], ["b"]]
        // a ×3; b, c ×2; d, e, é ×1 (ties in code-point order: b < c, d < e < é).
        XCTAssertEqual(WordVocabulary(counting: texts).words, ["<pad>", "<unk>", "a", "b", "c", "d", "e", "é"])
        XCTAssertEqual(WordVocabulary(counting: texts, minFrequency: 2).words, ["<pad>", "<unk>", "a", "b", "c"])
        XCTAssertEqual(WordVocabulary(counting: texts, maxSize: 4).words, ["<pad>", "<unk>", "a", "b"])
        XCTAssertEqual(WordVocabulary(counting: texts, maxSize: 2).words, ["<pad>", "<unk>"])
        // A text that holds the special spellings does not duplicate them.
        XCTAssertEqual(WordVocabulary(counting: [["<unk>", "<pad>", "x"]]).words, ["<pad>", "<unk>", "x"])
    }

    func testEncodingCutsPadsAndMarksUnknownWords() throws {
        let v = WordVocabulary(counting: [["the", "cat", "sat", "the"]])
        XCTAssertEqual(v.words, ["<pad>", "<unk>", "the", "cat", "sat"])
        XCTAssertEqual(v.encode("The dog sat.", length: 5), [2, 1, 4, 0, 0])
        XCTAssertEqual(v.encode("the cat sat the cat sat", length: 4), [2, 3, 4, 2])
        XCTAssertEqual(v.encode("", length: 2), [0, 0])
    }

    func testSerializationRoundTripsAndRejectsOtherText() throws {
        let v = WordVocabulary(counting: [["naïve", "\"quoted\"", "back\\slash", "a"]])
        XCTAssertEqual(try WordVocabulary(serialized: v.serialized()), v)
        for bad in ["", "{}", "[\"<pad>\"]", "[\"<unk>\", \"<pad>\"]", "[\"<pad>\", \"<unk>\", \"a\", \"a\"]", "[1, 2]"] {
            XCTAssertThrowsError(try WordVocabulary(serialized: bad), bad)
        }
    }
}
