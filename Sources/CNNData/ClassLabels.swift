/// How a table's label column becomes class indices (image lists, text classification files).
/// With `classNames` given, a label is either spelling of those classes, a name or its index;
/// without, integers are indices (the class count is the largest + 1) and anything else makes
/// every label a name, the classes being the sorted distinct names (code-point order).
enum ClassLabels {
    /// The largest class index a table may give (a head of a million classes).
    static let maxClassIndex = 999_999

    /// `labels[k]` is at `places[k]` (`file:row`), for errors.
    static func assign(_ labels: [String], places: [String], given: [String]?) throws
        -> (indices: [Int32], classNames: [String]?) {
        let indices = labels.map { Int($0) }
        if let names = given {
            let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            return (try labels.enumerated().map { k, label in
                guard let i = index[label] ?? indices[k].flatMap({ (0..<names.count).contains($0) ? $0 : nil })
                else {
                    throw DataError(file: places[k], message: "label \"\(label)\" is neither a class name nor an "
                                    + "index 0...\(names.count - 1)")
                }
                return Int32(i)
            }, names)
        }
        if indices.allSatisfy({ $0 != nil }) {
            if let k = indices.firstIndex(where: { !(0...maxClassIndex).contains($0!) }) {
                throw DataError(file: places[k], message: "label \(labels[k]) is not a class index 0...\(maxClassIndex)")
            }
            return (indices.map { Int32($0!) }, nil)
        }
        let names = Set(labels).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
        return (labels.map { index[$0]! }, names)
    }
}
