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
