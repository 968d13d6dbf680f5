import CNNCore
import XCTest

final class BLASCoreTests: XCTestCase {
    let avx512: Set<String> = ["sse2", "avx2", "avx512f", "avx512bw"]

    func testAVX512CPUWithAVX2KernelsSwitchesToSkylakeX() {
        XCTAssertEqual(BLASCore.preferredCore(choice: nil, cpuFlags: avx512, loaded: "Haswell"), "SkylakeX")
        XCTAssertEqual(BLASCore.preferredCore(choice: nil, cpuFlags: avx512, loaded: "Zen"), "SkylakeX")
    }

    func testAVX512KernelsOrAnAVX2CPUAreKept() {
        XCTAssertNil(BLASCore.preferredCore(choice: nil, cpuFlags: avx512, loaded: "Cooperlake"))
        XCTAssertNil(BLASCore.preferredCore(choice: nil, cpuFlags: avx512, loaded: "SkylakeX"))
        XCTAssertNil(BLASCore.preferredCore(choice: nil, cpuFlags: ["sse2", "avx2"], loaded: "Haswell"))
    }

    func testTheUsersChoiceWins() {
        XCTAssertNil(BLASCore.preferredCore(choice: "inherit", cpuFlags: avx512, loaded: "Haswell"))
        XCTAssertEqual(BLASCore.preferredCore(choice: "Haswell", cpuFlags: avx512, loaded: "Cooperlake"), "Haswell")
        XCTAssertNil(BLASCore.preferredCore(choice: "haswell", cpuFlags: avx512, loaded: "Haswell"))
    }

    func testCPUFlagsAreReadFromTheFlagsLine() throws {
        let path = NSTemporaryDirectory() + "cpuinfo-\(getpid())"
        try "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx2 avx512f\nbugs\t\t: none\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(BLASCore.cpuFlags(cpuinfo: path), ["fpu", "sse2", "avx2", "avx512f"])
        XCTAssertEqual(BLASCore.cpuFlags(cpuinfo: path + ".missing"), [])
    }

    func testTheLoadedCoreHasAName() {
        XCTAssertFalse(BLASCore.loaded.isEmpty)
        XCTAssertTrue(BLASCore.choiceDescription.hasPrefix(BLASCore.loaded))
    }
}
