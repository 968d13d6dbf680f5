import CNNConfig
import CNNCore

/// `{"type": "fortune_topics", "topics": ["computers", "science", …], "split": "train" | "test",
///   "test_fraction"?: 0.2, "seed"?: 0, "directory"?: "/usr/share/games/fortunes",
///   "max_length": T, "min_freq"?: 1, "max_size"?: N}`: the fortunes of Debian's `fortunes`
/// package as a topic classification dataset, each fortune labelled with the file (topic) it
/// comes from, classes in the order of `topics`.
///
/// A fortune file is texts separated by lines holding only `%` (strfile's format); each text is
/// trimmed and empty ones skipped. The split is stratified and fixed: each topic's fortunes are
/// shuffled by a Fisher–Yates permutation seeded with `mixSeed(seed, topic's position)`, and the
/// first `round(test_fraction × count)` of them are the test split (in file order), the rest
/// training. So the test split never shares a fortune with the training split for the same
/// `topics`, `test_fraction` and `seed`, on every machine.
enum FortuneTopics {
    enum Split: String, ConfigEnum { case train, test }

    struct Config: Decodable {
        var topics: [String]
        var split: Split
        var testFraction: Double?
        var seed: UInt64?
        var directory: String?
        var vocabulary: TextVocabularyConfig
        enum CodingKeys: String, CodingKey { case topics, split, testFraction = "test_fraction", seed, directory }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            topics = try c.decode([String].self, forKey: .topics)
            split = try c.decode(Split.self, forKey: .split)
            testFraction = try c.decodeIfPresent(Double.self, forKey: .testFraction)
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
            directory = try c.decodeIfPresent(String.self, forKey: .directory)
            vocabulary = try TextVocabularyConfig(from: decoder)
        }

        func validate(path: String, file: String) throws {
            func fail(_ key: CodingKeys, _ message: String) -> ConfigError {
                ConfigError(file: file, place: ConfigDecoder.keyPath(path, key: key.rawValue), message: message)
            }
            guard topics.count >= 2 else { throw fail(.topics, "needs at least 2 topics, got \(topics.count)") }
            for (i, topic) in topics.enumerated() {
                guard !topic.isEmpty, !topic.contains("/"), !topic.hasPrefix(".") else {
                    throw ConfigError(file: file, place: "\(ConfigDecoder.keyPath(path, key: "topics"))[\(i)]",
                                      message: "must be the name of a fortune file such as \"computers\", got \"\(topic)\"")
                }
                if let j = topics[..<i].firstIndex(of: topic) {
                    throw fail(.topics, "\"\(topic)\" is listed twice (at \(j) and \(i))")
                }
            }
            if let f = testFraction, !(f > 0 && f < 1) {
                throw fail(.testFraction, "must be in (0, 1), got \(f)")
            }
            try vocabulary.validate(path: path, file: file)
        }
    }

    static let defaultDirectory = "/usr/share/games/fortunes"
    /// The largest fortune file read (the package's largest is under 1 MiB).
    static let maxBytes = 64 << 20

    static func load(_ c: Config, directory: String, name: String) throws -> TextDocuments {
        var texts: [String] = [], labels: [Int32] = []
        for (k, topic) in c.topics.enumerated() {
            let fortunes = try read(DataSource.resolve(topic, against: directory))
            let held = Int(((c.testFraction ?? 0.2) * Double(fortunes.count)).rounded())
            var rng = RNG(seed: mixSeed(c.seed ?? 0, UInt64(k)))
            let (test, train) = Permutation.split(count: fortunes.count, first: held, rng: &rng)
            let chosen = c.split == .test ? test : train
            texts += chosen.map { fortunes[$0] }
            labels += [Int32](repeating: Int32(k), count: chosen.count)
        }
        return TextDocuments(name: name, texts: texts, labels: labels, classNames: c.topics)
    }

    /// The fortunes of one file; a missing, unreadable, non-UTF-8 or empty file is an error naming it.
    static func read(_ path: String) throws -> [String] {
        let text: String
        do {
            text = try readUTF8(path, limit: maxBytes, what: "fortune file")
        } catch let error as FileError {
            throw DataError(file: path, message: "\(error.message); fortune topics are the files of "
                            + "Debian's fortunes package (apt-get install fortunes), e.g. computers, science, law")
        }
        var fortunes: [String] = [], current: [Substring] = []
        func close() {
            let fortune = current.joined(separator: "\n").trimmingWhitespace()
            if !fortune.isEmpty { fortunes.append(fortune) }
            current = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "%" { close() } else { current.append(line) }
        }
        close()
        guard fortunes.count >= 2 else {
            throw DataError(file: path, message: "holds \(fortunes.count) fortune(s); a topic needs at least 2 "
                            + "(texts separated by lines of \"%\")")
        }
        return fortunes
    }
}
