/// A shell-style glob over parameter and layer names: `*` matches any run of characters (dots
/// included, as fnmatch without FNM_PATHNAME), `?` one character, everything else itself.
///
/// `selects(_:)` also matches the name's dot-separated prefixes, so a layer or block name
/// selects everything inside it: `c1` selects `c1.weight` and `c1.bias`, `layer1` selects
/// `layer1.0.conv1.weight`, but `c1` does not select `c10.weight`.
public struct NamePattern: Sendable, Equatable {
    public let pattern: String
    private let characters: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        characters = Array(pattern)
    }

    /// Whether the glob matches all of `name`.
    public func matches(_ name: String) -> Bool {
        let text = Array(name)
        // Greedy matching with backtracking to the last star: linear in practice, never
        // exponential.
        var p = 0, t = 0, star = -1, resume = 0
        while t < text.count {
            if p < characters.count && (characters[p] == "?" || characters[p] == text[t]) {
                p += 1
                t += 1
            } else if p < characters.count && characters[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < characters.count && characters[p] == "*" { p += 1 }
        return p == characters.count
    }

    /// Whether the glob matches `name` or one of its dot-separated prefixes.
    public func selects(_ name: String) -> Bool {
        if matches(name) { return true }
        var prefix = Substring(name)
        while let dot = prefix.lastIndex(of: ".") {
            prefix = prefix[..<dot]
            if matches(String(prefix)) { return true }
        }
        return false
    }
}
