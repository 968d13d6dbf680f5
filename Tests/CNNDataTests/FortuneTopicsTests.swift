import CNNConfig
import CNNCore
import Foundation
import XCTest

@testable import CNNData

/// `fortune_topics`: strfile's `%`-separated texts, the stratified fixed split, and Debian's
/// package itself.
final class FortuneTopicsTests: XCTestCase {
    private func source(_ split: String, _ topics: [String], directory: String? = nil,
                        _ extra: [(String, JSONValue)] = []) -> JSONValue {
        var object = JSONObject([("type", "fortune_topics"), ("split", .string(split)),
                                 ("topics", .array(topics.map(JSONValue.string)))])
        if let directory { object["directory"] = .string(directory) }
        for (k, v) in extra { object[k] = v }
        return .object(object)
    }

    private func load(_ json: JSONValue) throws -> LoadedData { try TestFiles.loadData(json, "") }

    func testSplitIsStratifiedDisjointAndFixed() throws {
        let dir = TestFiles.directory("fortunes")
        let a = (0..<10).map { "alpha fortune \($0)\nsecond line" }.joined(separator: "\n%\n")
        TestFiles.write(Array(("%\n" + a + "\n%\n\n%\n").utf8), to: "\(dir)/alpha")
        TestFiles.write(Array((0..<5).map { "beta \($0)" }.joined(separator: "\n%\n").utf8), to: "\(dir)/beta")
        let train = source("train", ["alpha", "beta"], directory: dir, [("max_length", 3), ("test_fraction", 0.4)])
        let test = source("test", ["alpha", "beta"], directory: dir, [("test_fraction", 0.4)])
        let data = try load(["train": train, "test": test])
        XCTAssertEqual(data.train.count, 6 + 3)
        XCTAssertEqual(data.test?.count, 4 + 2, "round(0.4 × 10) and round(0.4 × 5) per topic")
        XCTAssertEqual(data.test?.labels, [0, 0, 0, 0, 1, 1])
        XCTAssertEqual(data.train.classNames, ["alpha", "beta"])
        let docs = try FortuneTopics.read("\(dir)/alpha")
        XCTAssertEqual(docs.count, 10, "empty texts between % lines are skipped")
        XCTAssertEqual(docs[3], "alpha fortune 3\nsecond line")
        // Every fortune is in exactly one split: the numbers after "alpha fortune" (word 3) and "beta" (word 2).
        let words = data.train.words!
        func numbers(_ set: LabeledDataset) -> [String] {
            (0..<set.count).map { i in
                let row = set.values[3 * i..<3 * i + 3].map { words.words[Int($0)] }
                return row[0] + (row[0] == "alpha" ? row[2] : row[1])
            }
        }
        let testNumbers = numbers(data.test!), trainNumbers = numbers(data.train)
        XCTAssertEqual(Set(testNumbers).intersection(trainNumbers), [], "test texts get <unk> or their own words")
        // Pinned: the seeded shuffle (RNG and Fisher–Yates written out here) picks these on every machine.
        let texts = try DataSource.decode(test, path: "data.test", file: "c.json")
            .documents(role: "test", baseDirectory: "", classNames: nil).texts
        XCTAssertEqual(texts.map { $0.split(separator: "\n")[0] },
                       ["alpha fortune 3", "alpha fortune 5", "alpha fortune 6", "alpha fortune 7", "beta 0", "beta 3"])
        let other = try load(["train": source("train", ["alpha", "beta"], directory: dir,
                                              [("max_length", 3), ("test_fraction", 0.4), ("seed", 9)])])
        XCTAssertNotEqual(other.train.values, data.train.values, "another seed, another split")
    }

    func testErrorsNameTheTopicOrKey() throws {
        let dir = TestFiles.directory("fortunes-errors")
        TestFiles.write(Array("only one".utf8), to: "\(dir)/one")
        TestFiles.write(Array("a\n%\nb".utf8), to: "\(dir)/two")
        func message(_ json: JSONValue) -> String { TestFiles.loadError(json, "") }
        XCTAssertEqual(message(["train": source("train", ["two", "one"], directory: dir, [("max_length", 2)])]),
                       "\(dir)/one: holds 1 fortune(s); a topic needs at least 2 (texts separated by lines of \"%\")")
        XCTAssertEqual(message(["train": source("train", ["two"], directory: dir, [("max_length", 2)])]),
                       "c.json: data.train.topics: needs at least 2 topics, got 1")
        XCTAssertEqual(message(["train": source("train", ["two", "../two"], directory: dir, [("max_length", 2)])]),
                       "c.json: data.train.topics[1]: must be the name of a fortune file such as \"computers\", got \"../two\"")
        XCTAssertEqual(message(["train": source("train", ["two", "two"], directory: dir, [("max_length", 2)])]),
                       "c.json: data.train.topics: \"two\" is listed twice (at 0 and 1)")
        XCTAssertEqual(message(["train": source("train", ["two", "one"], directory: dir, [("max_length", 2), ("test_fraction", 1)])]),
                       "c.json: data.train.test_fraction: must be in (0, 1), got 1.0")
        XCTAssertEqual(message(["train": source("train", ["two", "one"], directory: dir, [("max_length", 2), ("seed", 3)]),
                                "test": source("test", ["two", "one"], directory: dir)]),
                       "c.json: data.test.seed: must be the training source's, so that the split does not put training "
                       + "fortunes in this set")
        XCTAssertEqual(message(["train": source("train", ["two", "two2"], directory: dir, [("max_length", 2)]),
                                "test": source("test", ["two2", "two"], directory: dir)]),
                       "c.json: data.test.topics: must be the training source's, so that the split does not put training "
                       + "fortunes in this set")
        XCTAssertTrue(message(["train": source("train", ["two", "nope"], directory: dir, [("max_length", 2)])])
            .hasPrefix("\(dir)/nope: "))
    }

    /// The shipped configs' six topics from Debian's fortunes package (skipped where it is absent).
    func testDebianTopicsSplitAsShipped() throws {
        let topics = ["computers", "science", "politics", "law", "food", "startrek"]
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/games/fortunes/computers"),
                          "Debian's fortunes package is not installed")
        let data = try load(["train": source("train", topics, [("max_length", 100), ("min_freq", 2)]),
                             "test": source("test", topics)])
        XCTAssertEqual(data.train.count + data.test!.count, 3010)
        XCTAssertEqual(data.test!.count, 602)
        let counts = (0..<6).map { k in data.test!.labels.filter { $0 == k }.count }
        XCTAssertEqual(counts, [210, 125, 141, 41, 40, 45])
    }
}
