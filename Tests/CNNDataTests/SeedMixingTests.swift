import XCTest

@testable import CNNData

final class SeedMixingTests: XCTestCase {
    /// Reference values from an independent Python transcription of the documented formula
    /// (h₀ = 0x6A09E667F3BCC908; h = splitmix64_finalize((h + 0x9E3779B97F4A7C15) ^ v), all
    /// arithmetic mod 2⁶⁴).
    func testMatchesTheDocumentedFormula() {
        XCTAssertEqual(mixSeed(), 0x6A09_E667_F3BC_C908)
        XCTAssertEqual(mixSeed(0), 0x1AC0_46DD_A8E8_6E2A)
        XCTAssertEqual(mixSeed(1, 2), 0xB3AC_E59B_20FE_9BAB)
        XCTAssertEqual(mixSeed(2, 1), 0x9E6F_F40C_050D_B6BB)
    }

    func testOrderAndLengthMatter() {
        XCTAssertNotEqual(mixSeed(1, 2), mixSeed(2, 1))
        XCTAssertNotEqual(mixSeed(7), mixSeed(7, 0))
        // Neighbouring epochs of one seed all differ.
        let seeds = Set((0..<1000).map { mixSeed(42, UInt64($0)) })
        XCTAssertEqual(seeds.count, 1000)
    }
}
