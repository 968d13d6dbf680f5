import CNNConfig
import CNNCore
import CNNLayers
import XCTest

@testable import CNNGraph

/// "No crash, no trap, on any input": seeded random mutations of real configs must either build
/// or throw a ConfigError. A trap (overflow, out-of-range index, failed allocation) would kill the
/// test process, so reaching the end is the assertion; the counts check the fuzzing did both.
final class ConfigFuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let seeds = ["lenet5.json", "resnet20_cifar.json", "googlenet.json", "mobilenet_v2.json", "xception.json"]

    /// Values that break assumptions: zero, negatives, huge numbers, reals, wrong types.
    static let nasty: [JSONValue] = [
        0, -1, 1, 2, 7, 1_000_000, 9_223_372_036_854_775_807, -9_223_372_036_854_775_807, 0.5, -2.5, 1e300,
        "", "x", "same", "relu", "maxpool2d", "residual", .null, true, [], [0], [1, 2, 3, 4, 5], [-1, 3],
        ["type": "conv2d"], [:],
    ]

    func testMutatedConfigsBuildOrFailCleanly() throws {
        var rng = RNG(seed: 2026)
        var built = 0, rejected = 0
        for file in Self.seeds {
            let text = try String(contentsOf: Self.root.appendingPathComponent("configs/models/\(file)"), encoding: .utf8)
            let original = try JSONSource.parse(text, file: file)
            for _ in 0..<150 {
                var value = original
                for _ in 0..<(1 + Int(rng.next() % 3)) { value = mutate(value, &rng) }
                do {
                    let graph = try GraphBuilder.build(model: value, file: file)
                    _ = Summary.make(graph, batch: 2)
                    built += 1
                } catch is ConfigError {
                    rejected += 1
                }
            }
        }
        XCTAssertGreaterThan(built, 50)
        XCTAssertGreaterThan(rejected, 200)
    }

    func testCorruptedJSONTextParsesOrFailsCleanly() throws {
        var rng = RNG(seed: 7)
        let text = try String(contentsOf: Self.root.appendingPathComponent("configs/models/resnet18.json"), encoding: .utf8)
        var bytes = Array(text.utf8), failures = 0
        let alphabet = Array("{}[],:\"/*\\ 0123456789.-eEtruefalsnl\n\u{0}é".utf8)
        for _ in 0..<400 {
            var corrupted = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(corrupted.count))
                switch rng.next() % 3 {
                case 0: corrupted[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: corrupted.remove(at: i)
                default: corrupted.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                }
            }
            do {
                _ = try JSONSource.parse(String(decoding: corrupted, as: UTF8.self), file: "f.json")
            } catch let e as ConfigError {
                XCTAssertEqual(e.file, "f.json")
                failures += 1
            }
        }
        bytes.removeAll()
        XCTAssertGreaterThan(failures, 200)
    }

    /// Replaces, deletes or retypes one randomly chosen value somewhere in the tree.
    private func mutate(_ value: JSONValue, _ rng: inout RNG) -> JSONValue {
        switch value {
        case .object(var object) where !object.isEmpty && rng.next() % 4 != 0:
            let key = object.keys[Int(rng.next() % UInt64(object.keys.count))]
            if rng.next() % 8 == 0 {
                object[key] = nil
            } else {
                object[key] = mutate(object[key]!, &rng)
            }
            return .object(object)
        case .array(var items) where !items.isEmpty && rng.next() % 4 != 0:
            let i = Int(rng.next() % UInt64(items.count))
            switch rng.next() % 8 {
            case 0: items.remove(at: i)
            case 1: items.append(items[i])
            default: items[i] = mutate(items[i], &rng)
            }
            return .array(items)
        default:
            return Self.nasty[Int(rng.next() % UInt64(Self.nasty.count))]
        }
    }
}
