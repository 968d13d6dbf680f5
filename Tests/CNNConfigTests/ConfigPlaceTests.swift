import CNNConfig
import Foundation
import XCTest

/// A section that keeps its place for a check made after decoding, as the training specs do.
private struct Section: Decodable {
    var rate: Double
    var place: ConfigPlace

    enum CodingKeys: String, CodingKey { case rate }

    init(from decoder: any Decoder) throws {
        rate = try decoder.container(keyedBy: CodingKeys.self).decode(Double.self, forKey: .rate)
        place = ConfigPlace(decoder, fallback: "train.section")
    }
}

private struct Root: Decodable { var section: Section }

final class ConfigPlaceTests: XCTestCase {
    func testPlaceFromConfigDecoderHasFileAndKeyPath() throws {
        let root = try ConfigDecoder.decode(Root.self, from: ["section": ["rate": 1.5]],
                                            path: "train", file: "run.json")
        XCTAssertEqual(root.section.place, ConfigPlace(file: "run.json", path: "train.section"))
        XCTAssertEqual(root.section.place.error("must be in [0, 1), got 1.5", key: "rate")
                           .description,
                       "run.json: train.section.rate: must be in [0, 1), got 1.5")
    }

    func testPlaceFromAnotherDecoderFallsBack() throws {
        let json = Data("{\"section\": {\"rate\": 0.5}}".utf8)
        let root = try JSONDecoder().decode(Root.self, from: json)
        XCTAssertEqual(root.section.place, ConfigPlace(file: nil, path: "train.section"))
    }

    func testCheckThrowsOnlyWhenTheConditionFails() {
        let place = ConfigPlace(file: nil, path: "train.optimizer")
        XCTAssertNoThrow(try place.check(true, "momentum", "never thrown"))
        XCTAssertThrowsError(try place.check(false, "momentum", "must be in [0, 1)")) { error in
            XCTAssertEqual("\(error)", "train.optimizer.momentum: must be in [0, 1)")
        }
    }
}
