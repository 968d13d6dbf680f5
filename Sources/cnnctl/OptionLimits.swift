import ArgumentParser
import CNNCore

/// Checks a numeric option against its range in `Limits` before the command runs: outside it is
/// a usage error (status 64) that names the option and the range.
func checkOption(_ name: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
    if let value, let problem = Limits.violation(value, range) { throw ValidationError("--\(name) \(problem)") }
}

/// As `checkOption`, for a real-valued option: finite and in `range`.
func checkOption(_ name: String, _ value: Double, _ range: ClosedRange<Double>) throws {
    guard value.isFinite, range.contains(value) else {
        throw ValidationError("--\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
}

/// A size in bytes on the command line: `1073741824`, or with a binary suffix `512M`, `4G`,
/// `1T` (K, M, G, T: powers of 1024), at least 1 MiB and at most 2⁶⁰.
struct ByteSize: ExpressibleByArgument {
    let bytes: Int

    init?(argument: String) {
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        var digits = Substring(argument.uppercased()), shift = 0
        if let unit = digits.last, let s = units[unit] {
            shift = s
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value >= 0, value <= (1 << 60) >> shift else { return nil }
        bytes = value << shift
        guard bytes >= 1 << 20 else { return nil }
    }

    static var defaultValueDescription: String { "the machine's" }
}
