import CNNConfig
import CNNCore

extension DataSpec {
    /// A `data` section whose training source is labelled text (`text_classification`,
    /// `fortune_topics`): the validation part is held out first (a fraction of the texts, as
    /// `LabeledDataset.split` chooses samples), then the word vocabulary is built from what
    /// remains for training and encodes every set to the training source's `max_length`; the
    /// validation and test sources take the training classes.
    static func loadDocuments(_ c: Config, train: DataSource, validation: DataSource?, fraction: Double?,
                              test: DataSource?, path: String, file: String, baseDirectory: String) throws -> LoadedData {
        func place(_ key: String) -> String { ConfigDecoder.keyPath(path, key: key) }
        func fail(_ place: String, _ message: String) -> ConfigError {
            ConfigError(file: file, place: place, message: message)
        }
        for (key, given) in [("normalize", c.normalize != nil), ("augment", c.augment != nil),
                             ("sequence", c.sequence != nil), ("transforms", c.transforms != nil),
                             ("cache", c.cache != nil), ("loader_threads", c.loaderThreads != nil)] where given {
            throw fail(place(key), "does not apply to labelled text, whose samples are word indices for an embedding")
        }
        guard let settings = train.textVocabulary, let length = settings.maxLength else {
            throw fail(place("train"), "missing required key \"max_length\": the words each text keeps (the model "
                       + "input's [T])")
        }
        for (key, source) in [("validation", validation), ("test", test)] {
            guard let source else { continue }
            guard let own = source.textVocabulary else {
                throw fail(place(key), "the training set is labelled text, so this must be a text_classification or "
                           + "fortune_topics source too")
            }
            for (name, value) in [("min_freq", own.minFreq), ("max_size", own.maxSize)] where value != nil {
                throw fail(ConfigDecoder.keyPath(place(key), key: name), "the vocabulary is built from the training "
                           + "texts only; set \(name) on data.train")
            }
            if let t = own.maxLength, t != length {
                throw fail(ConfigDecoder.keyPath(place(key), key: "max_length"), "must be the training set's "
                           + "max_length, \(length), or left out; got \(t)")
            }
            if case .fortuneTopics(let f) = source, case .fortuneTopics(let t) = train {
                // The split is made the same way on both sides, or test fortunes would be training ones.
                let differing = [("topics", f.topics != t.topics), ("test_fraction", (f.testFraction ?? 0.2) != (t.testFraction ?? 0.2)),
                                 ("seed", (f.seed ?? 0) != (t.seed ?? 0)), ("directory", f.directory != t.directory)]
                if let (name, _) = differing.first(where: { $0.1 }) {
                    throw fail(ConfigDecoder.keyPath(place(key), key: name), "must be the training source's, so that the "
                               + "split does not put training fortunes in this set")
                }
            }
        }
        var trainTexts = try train.documents(role: "train", baseDirectory: baseDirectory, classNames: nil)
        var validationTexts: TextDocuments?
        if let f = fraction {
            try checkHeldOut(f, of: trainTexts.texts.count, "training texts", path: path, file: file)
            (trainTexts, validationTexts) = trainTexts.split(validationFraction: f, seed: c.seed ?? 0)
        } else if let validation {
            validationTexts = try validation.documents(role: "validation", baseDirectory: baseDirectory,
                                                       classNames: trainTexts.classNames)
        }
        let testTexts = try test?.documents(role: "test", baseDirectory: baseDirectory, classNames: trainTexts.classNames)
        // Tokenized once: the training texts' words make the vocabulary, then their indices.
        let trainTokens = trainTexts.texts.map(WordVocabulary.tokenize)
        let words = WordVocabulary(counting: trainTokens, minFrequency: settings.minFreq ?? 1, maxSize: settings.maxSize)
        func encode(_ texts: TextDocuments?) throws -> LabeledDataset? {
            try texts.map { try $0.encoded(words: words, length: length, classCount: $0.classCount) }
        }
        let trainSet = try trainTexts.encoded(words: words, length: length, classCount: trainTexts.classCount,
                                              tokens: trainTokens)
        let validationSet = try encode(validationTexts), testSet = try encode(testTexts)
        try checkAgainstTraining(trainSet, [("validation", validationSet), ("test", testSet)], path: path, file: file)
        return LoadedData(train: trainSet, validation: validationSet, test: testSet, normalization: nil, augmentation: nil)
    }
}
