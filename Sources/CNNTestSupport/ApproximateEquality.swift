import XCTest
import CNNCore

/// How far a computed value may lie from the expected one, `e`, in `assertClose`.
///
/// Each rule bounds the difference by the *expected* value only (swift-numerics'
/// `isApproximatelyEqual` scales by the larger of the two magnitudes, which would let a result
/// that is far too large pass a relative test). The rules with a floor of 1 are absolute for
/// expected values below 1 in magnitude, so an expected zero does not demand an exact zero.
public enum Tolerance: Sendable, CustomStringConvertible {
    /// `|a − e| ≤ t`: for values of a known, moderate size.
    case absolute(Double)
    /// `|a − e| ≤ t · max(1, |e|)`: relative for large values, absolute near zero.
    case relative(Double)
    /// `|a − e| ≤ t · max(1, max |e|)` over the whole expected array: for sums of many terms of
    /// either sign, whose rounding scales with the terms, not with the (possibly small) sum.
    case relativeToLargest(Double)

    public var description: String {
        switch self {
        case .absolute(let t): "\(t)"
        case .relative(let t): "\(t) · max(1, |expected|)"
        case .relativeToLargest(let t): "\(t) · max(1, largest |expected|)"
        }
    }
}

/// Fails (once, naming the first mismatching index, both values and how many elements mismatch)
/// unless `actual` has `expected`'s count and every element is within `tolerance` of it.
///
/// The difference and the bound are computed in `Expected`'s precision (`Float` arithmetic for
/// `Float` expectations, exact differences for `Double` ones), so `.absolute(t)` on `Float`s passes
/// exactly where `XCTAssertEqual(a, e, accuracy: Float(t))` would, element by element. Equal values
/// (also equal infinities) pass; NaN never does.
public func assertClose<Expected: BinaryFloatingPoint>(
    _ actual: [Float], _ expected: [Expected], within tolerance: Tolerance,
    _ label: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    func fail(_ message: String) {
        let text = label()
        XCTFail(text.isEmpty ? message : "\(text): \(message)", file: file, line: line)
    }
    guard actual.count == expected.count else {
        return fail("\(actual.count) values instead of \(expected.count)")
    }
    let bound: (Expected) -> Expected
    switch tolerance {
    case .absolute(let t):
        let t = Expected(t)
        bound = { _ in t }
    case .relative(let t):
        let t = Expected(t)
        bound = { t * max(1, abs($0)) }
    case .relativeToLargest(let t):
        let t = Expected(t) * max(1, expected.lazy.map(abs).max() ?? 0)
        bound = { _ in t }
    }
    var first: Int?, mismatches = 0
    for (i, (a, e)) in zip(actual.lazy.map(Expected.init), expected).enumerated() {
        if a == e || abs(a - e) <= bound(e) { continue }
        if first == nil { first = i }
        mismatches += 1
    }
    if let i = first {
        fail("\(mismatches) of \(expected.count) values differ by more than \(tolerance); "
             + "first at [\(i)]: \(actual[i]) vs expected \(expected[i])")
    }
}

/// `assertClose` on a tensor's elements in memory order (its shape is not compared).
public func assertClose<Expected: BinaryFloatingPoint>(
    _ actual: Tensor, _ expected: [Expected], within tolerance: Tolerance,
    _ label: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose(actual.array, expected, within: tolerance, label(), file: file, line: line)
}
