import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Runs the `cnnctl` binary the way a fuzzer must: under an address-space limit (so that an
/// unbounded allocation aborts instead of swapping the machine), with a deadline, and with what
/// only `wait4` tells — whether a signal ended it and its peak resident memory.
enum FuzzRunner {
    struct Outcome {
        /// The exit status, or nil when a signal ended the process.
        var status: Int32?
        var signal: Int32?
        var timedOut: Bool
        var seconds: Double
        /// Peak resident set size (`ru_maxrss`).
        var peakBytes: Int
        var stderr: String
    }

    /// `ulimit -v` of every run: far above what any case needs (OpenBLAS and the worker threads
    /// reserve address space they never touch), far below the machine.
    static let addressSpaceKiB = 8 << 20

    /// Runs `cnnctl arguments…` in the repository root, killed after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double) throws -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnctl-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let errPath = directory.appendingPathComponent("stderr").path
        let script = "cd \"$2\" && ulimit -v \(addressSpaceKiB) && exec \"$0\" \"${@:3}\" >/dev/null 2>\"$1\""
        let argv = ["/bin/bash", "-c", script, CLI.binary.path, errPath, CLI.repositoryRoot.path] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let start = Date()
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &cArgs, environ)
        guard spawned == 0 else { throw NSError(domain: "posix_spawn", code: Int(spawned)) }
        var status: Int32 = 0, usage = rusage(), timedOut = false
        while true {
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid { break }
            if done < 0 && errno != EINTR { throw NSError(domain: "wait4", code: Int(errno)) }
            if Date().timeIntervalSince(start) > timeout && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(5_000)
        }
        let signal = status & 0x7f
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Outcome(status: signal == 0 ? (status >> 8) & 0xff : nil, signal: signal == 0 ? nil : signal,
                       timedOut: timedOut, seconds: Date().timeIntervalSince(start),
                       peakBytes: usage.ru_maxrss * 1024, stderr: stderr)
    }
}

/// SplitMix64 (Steele et al. 2014): a seeded generator, so every fuzz case can be replayed.
struct FuzzRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Structured mutations of the files cnnctl reads: bytes (flips, cuts, insertions), numbers in
/// JSON text (set to the values that break arithmetic: 0, −1, 2³¹, 2⁶³ − 1, 1e308, …) and
/// big-endian header fields.
enum Mutate {
    /// Numbers that break size arithmetic when believed.
    static let extremeNumbers = ["0", "-1", "1", "2147483648", "4294967296", "9223372036854775807",
                                 "-9223372036854775808", "99999999999999999999", "1e308", "-1e308", "0.5",
                                 "1e-300", "3", "65536", "1000000000"]

    static func bytes(_ data: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        var out = data
        switch rng.below(5) {
        case 0 where !out.isEmpty:
            for _ in 0..<1 + rng.below(8) {
                let i = rng.below(out.count)
                out[i] ^= UInt8(1 << rng.below(8))
            }
        case 1:
            out = Array(out.prefix(rng.below(out.count + 1)))
        case 2:
            let junk = (0..<1 + rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            out.insert(contentsOf: junk, at: rng.below(out.count + 1))
        case 3 where !out.isEmpty:
            let a = rng.below(out.count), b = min(out.count, a + 1 + rng.below(32))
            out.removeSubrange(a..<b)
        default:
            out += (0..<1 + rng.below(4096)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        return out
    }

    /// Replaces one number of the JSON text by an extreme one.
    static func number(in text: String, _ rng: inout FuzzRandom, numbers: [String] = extremeNumbers) -> String {
        let scalars = Array(text.unicodeScalars)
        var runs: [Range<Int>] = []
        var i = 0
        while i < scalars.count {
            if CharacterSet.decimalDigits.contains(scalars[i]) {
                var j = i
                while j < scalars.count, CharacterSet(charactersIn: "0123456789.eE+-").contains(scalars[j]) { j += 1 }
                runs.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        guard !runs.isEmpty else { return text }
        let run = rng.pick(runs)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[..<run.lowerBound])
        view.append(contentsOf: rng.pick(numbers).unicodeScalars)
        view.append(contentsOf: scalars[run.upperBound...])
        return String(view)
    }

    /// One or more mutations of JSON text: numbers, and now and then its bytes. `numbers`
    /// replaces `extremeNumbers` where some of them would be valid and slow (a config's sample
    /// count of 65,536 is a long evaluation, not a fault).
    static func json(_ text: String, _ rng: inout FuzzRandom, numbers: [String] = extremeNumbers) -> [UInt8] {
        var t = text
        for _ in 0..<1 + rng.below(3) { t = number(in: t, &rng, numbers: numbers) }
        return rng.below(4) == 0 ? bytes(Array(t.utf8), &rng) : Array(t.utf8)
    }

    /// Sets big-endian UInt32 field `index` (after `offset`) to an extreme value.
    static func field(_ data: [UInt8], offset: Int, index: Int, _ rng: inout FuzzRandom) -> [UInt8] {
        var out = data
        let value: UInt32 = rng.pick([0, 1, 2, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 60_000, 1 << 20,
                                      UInt32(truncatingIfNeeded: rng.next())])
        let at = offset + 4 * index
        guard at + 4 <= out.count else { return out }
        for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) }
        return out
    }
}
