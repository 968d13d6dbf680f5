import CNNConfig
import CNNCore
import XCTest

@testable import CNNData

/// `text_classification` and `fortune_topics` sources: reading, classes, the vocabulary from the
/// training texts only, the fixed split, and every error naming its file and place.
final class TextClassificationTests: XCTestCase {
    private func write(_ text: String, _ dir: String, _ name: String) {
        TestFiles.write(Array(text.utf8), to: "\(dir)/\(name)")
    }

    private func load(_ json: JSONValue, _ dir: String) throws -> LoadedData { try TestFiles.loadData(json, dir) }

    private func message(_ json: JSONValue, _ dir: String) -> String { TestFiles.loadError(json, dir) }

    private func table(_ file: String, _ extra: [(String, JSONValue)] = []) -> JSONValue {
        var object = JSONObject([("type", "text_classification"), ("file", .string(file))])
        for (k, v) in extra { object[k] = v }
        return .object(object)
    }

    func testTablesReadLabelsTextsAndHeaders() throws {
        let dir = TestFiles.directory("text-tables")
        write("label\ttext\npos\tA fine, good day\nneg\tbad \"luck\" here\n\npos\tgood\tgood\n", dir, "train.tsv")
        write("neg,\"bad, bad\"\npos,good, good day\n", dir, "test.csv")
        let data = try load(["train": table("train.tsv", [("max_length", 4)]), "test": table("test.csv")], dir)
        XCTAssertEqual(data.train.classNames, ["neg", "pos"])
        XCTAssertEqual(data.train.labels, [1, 0, 1])
        // good ×3, then ties in code-point order: a, bad, day, fine, here, luck ("\"luck\"" loses its quotes).
        XCTAssertEqual(data.train.words?.words, ["<pad>", "<unk>", "good", "a", "bad", "day", "fine", "here", "luck"])
        XCTAssertEqual(data.train.values, [3, 6, 2, 5, 4, 8, 7, 0, 2, 2, 0, 0])
        XCTAssertEqual(data.test?.labels, [0, 1])
        XCTAssertEqual(data.test?.values, [4, 4, 0, 0, 2, 2, 5, 0], "the test texts in the training words")
        XCTAssertEqual(data.test?.classNames, ["neg", "pos"])
    }

    func testVocabularyComesFromTheTrainingPartOnly() throws {
        let dir = TestFiles.directory("text-fraction")
        write((0..<10).map { "\($0 % 2)\tword\($0) common" }.joined(separator: "\n"), dir, "all.tsv")
        let data = try load(["train": table("all.tsv", [("max_length", 2)]), "validation": 0.2, "seed": 3], dir)
        let held = data.validation!
        XCTAssertEqual(held.count, 2)
        XCTAssertEqual(data.train.count, 8)
        XCTAssertEqual(data.train.words?.count, 2 + 1 + 8, "<pad>, <unk>, common and the 8 training words")
        for i in 0..<held.count { XCTAssertEqual(held.values[2 * i], 1, "a validation text's own word is <unk>") }
        XCTAssertNil(data.train.classNames, "integer labels are indices")
        XCTAssertEqual(data.train.classCount, 2)
    }

    func testClassesFixNamesAndOrder() throws {
        let dir = TestFiles.directory("text-classes")
        write("spam,buy now\nham,see you\n1,index one\n", dir, "t.csv")
        let data = try load(["train": table("t.csv", [("max_length", 3), ("classes", ["spam", "ham"])])], dir)
        XCTAssertEqual(data.train.labels, [0, 1, 1])
        XCTAssertEqual(data.train.classNames, ["spam", "ham"])
        write("eggs,x\n", dir, "bad.csv")
        XCTAssertEqual(message(["train": table("t.csv", [("max_length", 3), ("classes", ["spam", "ham"])]),
                                "test": table("bad.csv")], dir),
                       "\(dir)/bad.csv:1: label \"eggs\" is neither a class name nor an index 0...1")
    }

    func testErrorsNameTheFileRowOrKey() throws {
        let dir = TestFiles.directory("text-errors")
        write("pos\tgood\nneg\n", dir, "one.tsv")
        write("\tgood\n", dir, "empty.tsv")
        TestFiles.write([0x70, 0x6F, 0x73, 0x09, 0xFF, 0x0A], to: "\(dir)/latin.tsv")
        write("\n\n", dir, "blank.tsv")
        write("pos\tok\n", dir, "ok.tsv")
        let cases: [(JSONValue, String)] = [
            (["train": table("one.tsv", [("max_length", 3)])], "\(dir)/one.tsv:2: has 1 field; each row is label<tab>text"),
            (["train": table("empty.tsv", [("max_length", 3)])], "\(dir)/empty.tsv:1: has an empty label"),
            (["train": table("latin.tsv", [("max_length", 3)])], "\(dir)/latin.tsv: is not UTF-8 text"),
            (["train": table("blank.tsv", [("max_length", 3)])], "\(dir)/blank.tsv: has no rows; each row is label<tab>text"),
            (["train": table("ok.tsv")], "c.json: data.train: missing required key \"max_length\": the words each text keeps (the model input's [T])"),
            (["train": table("ok.tsv", [("max_length", 0)])], "c.json: data.train.max_length: must be in 1...1000000 words, got 0"),
            (["train": table("ok.tsv", [("max_length", 3), ("max_size", 1)])],
             "c.json: data.train.max_size: must be at least 2 (\"<pad>\" and \"<unk>\" are entries), got 1"),
            (["train": table("ok.tsv", [("max_length", 3)]), "test": table("ok.tsv", [("min_freq", 2)])],
             "c.json: data.test.min_freq: the vocabulary is built from the training texts only; set min_freq on data.train"),
            (["train": table("ok.tsv", [("max_length", 3)]), "test": table("ok.tsv", [("max_length", 4)])],
             "c.json: data.test.max_length: must be the training set's max_length, 3, or left out; got 4"),
            (["train": table("ok.tsv", [("max_length", 3)]), "normalize": "auto"],
             "c.json: data.normalize: does not apply to labelled text, whose samples are word indices for an embedding"),
            (["train": table("ok.tsv", [("max_length", 3)]), "test": ["type": "synthetic", "count": 2, "classes": 2, "shape": [3]]],
             "c.json: data.test: the training set is labelled text, so this must be a text_classification or fortune_topics source too"),
            (["train": ["type": "synthetic", "count": 2, "classes": 2, "shape": [3]], "test": table("ok.tsv")],
             "c.json: data.test: is labelled text but the training set is not; they must be the same kind"),
            (["train": table("missing.tsv", [("max_length", 3)])], "no error"),
        ]
        for (json, expected) in cases.dropLast() { XCTAssertEqual(message(json, dir), expected) }
        XCTAssertTrue(message(cases.last!.0, dir).hasPrefix("\(dir)/missing.tsv"), message(cases.last!.0, dir))
    }

    /// Mutated tables are read or refused with a `DataError`, never a trap or a hang.
    func testMutatedTablesNeverTrap() throws {
        let dir = TestFiles.directory("text-fuzz")
        let base = Array("label,text\npos,\"a, b\"\"c\"\"\"\nneg,plain words here\n".utf8)
        var rng = RNG(seed: 7)
        for round in 0..<300 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: i)
                default: bytes.insert([0x22, 0x2C, 0x0A, 0x09, 0x00][Int(rng.next() % 5)], at: i)
                }
            }
            TestFiles.write(bytes, to: "\(dir)/f.csv")
            do {
                _ = try load(["train": table("f.csv", [("max_length", 4)])], dir)
            } catch is DataError {
            } catch {
                XCTFail("round \(round): \(type(of: error)): \(error)")
            }
        }
    }
}
