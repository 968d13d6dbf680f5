import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A run on a file system that fills up (a small tmpfs; mounting one needs root, as CI has):
/// the write that fails is an error naming the file, the previous checkpoint pair stays whole,
/// and the run resumes from it elsewhere.
final class DiskFullTests: XCTestCase {
    private func sh(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testAFullDiskStopsTheRunAndLosesNothing() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-full-\(getpid())").path
        let mount = base + "/mnt"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        // Room for the first epoch's checkpoints (best, last, state and the temporary copies of
        // the pair), not for the second epoch's temporary pair beside them.
        guard getuid() == 0, sh("mount -t tmpfs -o size=260k tmpfs '\(mount)'") == 0 else {
            throw XCTSkip("mounting a tmpfs needs root")
        }
        defer { _ = sh("umount '\(mount)'") }
        let config = try CLI.temporaryFile("full.json", FuzzTests.config(data: FuzzTests.synthetic, model: """
            {"name": "wide", "input": [1, 6, 6], "layers": [
              {"type": "flatten"}, {"type": "dense", "units": 300}, {"type": "dense", "units": 3}]}
            """, epochs: 3))
        let run = mount + "/run"
        let r = try CLI.run(["train", config, "--out", run])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("\(run)/last.state.safetensors") && r.stderr.contains("No space left on device"),
                      r.stderr)
        // The pair of epoch 1 is whole: a copy elsewhere resumes and finishes.
        let copy = base + "/copy"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for name in ["config.json", "log.txt", "metrics.csv", "last.safetensors", "last.state.safetensors"] {
            try FileManager.default.copyItem(atPath: run + "/" + name, toPath: copy + "/" + name)
        }
        let resumed = try CLI.run(["train", config, "--resume", copy])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming \(copy) at epoch 2, batch 1"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("epoch 3/3"), resumed.stdout)
    }
}
