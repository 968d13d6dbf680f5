import Foundation
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import CNNTraining

final class RunFilesTests: XCTestCase {
    private let header = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,"
        + "test_accuracy,lr,seconds,images_per_second"

    private func record(_ epoch: Int, train: (Double, Double), val: (Double, Double)? = nil,
                        test: (Double, Double)? = nil) -> EpochRecord {
        EpochRecord(epoch: epoch, trainLoss: train.0, trainAccuracy: train.1,
                    valLoss: val?.0, valAccuracy: val?.1, testLoss: test?.0, testAccuracy: test?.1,
                    lr: 0.1, seconds: 2, imagesPerSecond: 1000)
    }

    // MARK: metrics.csv

    func testCSVHasTheDocumentedColumnsAndEmptyCellsForAbsentSplits() {
        let records = [
            EpochRecord(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8125, valLoss: 0.25,
                        valAccuracy: 0.9, lr: 0.1, seconds: 12.5, imagesPerSecond: 4800),
            EpochRecord(epoch: 2, trainLoss: 0.1 + 0.2, trainAccuracy: 1.0 / 3.0,
                        testLoss: 0.75, testAccuracy: 0.7, lr: 1e-5, seconds: 3,
                        imagesPerSecond: 1e20),
        ]
        // Swift's shortest round-trip spellings: 0.1 + 0.2 = 0.30000000000000004, 1/3 has 16
        // significant digits, Float 1e-5 prints as 1e-05, whole Doubles keep ".0".
        XCTAssertEqual(MetricsCSV.render(records), header + "\n"
                       + "1,0.5,0.8125,0.25,0.9,,,0.1,12.5,4800.0\n"
                       + "2,0.30000000000000004,0.3333333333333333,,,0.75,0.7,1e-05,3.0,1e+20\n")
        XCTAssertEqual(MetricsCSV.render([]), header + "\n")
    }

    func testCSVRoundTripsEveryValueExactly() throws {
        var records = (1...5).map { e in
            record(e, train: (1 / Double(e), 1 - 1 / Double(e + 2)), val: (0.1 * Double(e), 0.3),
                   test: e == 3 ? nil : (Double.pi * Double(e), 0.123456789))
        }
        records[1].lr = 0.0123456789
        records[2].seconds = 1e-300
        records[3].trainLoss = .infinity
        let parsed = try MetricsCSV.parse(MetricsCSV.render(records))
        XCTAssertEqual(parsed, records)
        XCTAssertEqual(try MetricsCSV.parse(""), [])
        // A diverged run writes nan; it must come back as nan, not an error.
        records[4].valLoss = .nan
        XCTAssertTrue(try MetricsCSV.parse(MetricsCSV.render(records))[4].valLoss!.isNaN)
        // Files edited on Windows keep working.
        let crlf = MetricsCSV.render(records).replacingOccurrences(of: "\n", with: "\r\n")
        XCTAssertEqual(try MetricsCSV.parse(crlf).count, 5)
    }

    /// A segmentation run's file has two more columns; a classification run's keeps its old ten.
    func testCSVSegmentationColumnsRoundTrip() throws {
        var records = [record(1, train: (0.5, 0.9), val: (0.25, 0.95), test: (0.3, 0.94)),
                       record(2, train: (0.4, 0.92), val: nil, test: (0.2, 0.96))]
        records[0].valMeanIoU = 0.5
        records[0].testMeanIoU = 0.625
        records[1].testMeanIoU = 1.0 / 3.0
        let text = MetricsCSV.render(records)
        XCTAssertTrue(text.hasPrefix(header + ",val_mean_iou,test_mean_iou\n"))
        XCTAssertTrue(text.contains(",0.5,0.625\n") && text.contains(",,0.3333333333333333\n"), text)
        XCTAssertEqual(try MetricsCSV.parse(text), records)
        XCTAssertEqual(Metric.testMeanIoU.value(in: records[1]), 1.0 / 3.0)
        XCTAssertFalse(Metric.testMeanIoU.minimize)
    }

    func testCSVErrorsNameTheFileLineAndColumn() {
        let good = "1,0.5,0.8,,,,,0.1,2.0,1000.0"
        let cases: [(String, String)] = [
            ("epoch,loss\n", "line 1: expected the header \"\(header)\" (or with \",val_mean_iou,test_mean_iou\")"),
            ("\(header)\n\(good)\n1,0.5\n", "line 3: 2 fields; the header has 10"),
            ("\(header)\n1,0.5,abc,,,,,0.1,2.0,1000.0\n",
             "line 2: train_accuracy: \"abc\" is not a number"),
            ("\(header)\n1,0.5,0.8,,x,,,0.1,2.0,1000.0\n",
             "line 2: val_accuracy: \"x\" is not a number"),
            ("\(header)\n1,,0.8,,,,,0.1,2.0,1000.0\n",
             "line 2: train_loss is empty; every row needs it"),
            ("\(header)\n1.5,0.5,0.8,,,,,0.1,2.0,1000.0\n",
             "line 2: epoch: \"1.5\" is not an integer"),
            ("\(header)\n1,0.5,0.8,,,,,,2.0,1000.0\n", "line 2: lr: \"\" is not a number"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try MetricsCSV.parse(text, file: "run/metrics.csv")) { error in
                XCTAssertEqual("\(error)", "run/metrics.csv: \(message)")
            }
        }
    }

    func testEpochRecordEncodesWithTheCSVColumnNames() throws {
        let data = try JSONEncoder().encode(record(4, train: (0.5, 0.75), val: (0.25, 0.875)))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // Absent test values are left out, as JSONEncoder does for nil.
        XCTAssertEqual(Set(object.keys), ["epoch", "train_loss", "train_accuracy", "val_loss",
                                          "val_accuracy", "lr", "seconds", "images_per_second"])
        XCTAssertEqual(object["val_accuracy"] as? Double, 0.875)
        XCTAssertEqual(try JSONDecoder().decode(EpochRecord.self, from: data),
                       record(4, train: (0.5, 0.75), val: (0.25, 0.875)))
    }

    // MARK: curves.svg

    /// Parses `svg` with Foundation's XMLParser; nil unless it is well-formed XML. On Linux,
    /// `parse()` returns true for an unclosed element and only `parserError` tells, so both count.
    private func outline(_ svg: String) -> SVGOutline? {
        let outline = SVGOutline()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = outline
        return parser.parse() && parser.parserError == nil ? outline : nil
    }

    private func parse(_ svg: String, line: UInt = #line) -> SVGOutline {
        guard let outline = outline(svg) else {
            XCTFail("not well-formed XML", line: line)
            return SVGOutline()
        }
        return outline
    }

    /// A segmentation run's mean IoU joins the accuracy panel as dashed lines.
    func testCurvesOfASegmentationRunDrawTheMeanIoU() {
        var records = [record(1, train: (1.0, 0.5), test: (0.9, 0.6)), record(2, train: (0.6, 0.7), test: (0.7, 0.8))]
        records[0].testMeanIoU = 0.4
        records[1].testMeanIoU = 0.5
        let svg = CurvesSVG.render(records, title: "segment")
        let outline = parse(svg)
        XCTAssertEqual(outline.groups, ["legend", "loss", "loss-train", "loss-test",
                                        "accuracy", "accuracy-train", "accuracy-test", "accuracy-test-iou"])
        XCTAssertEqual(outline.polylines["accuracy-test-iou"]?.count, 1)
        XCTAssertTrue(outline.texts.contains("test mIoU") && outline.texts.contains("Pixel accuracy and mean IoU"))
        XCTAssertTrue(svg.contains("stroke-dasharray"))
        XCTAssertFalse(CurvesSVG.render([record(1, train: (1, 0.5))], title: "c").contains("stroke-dasharray"))
    }

    func testCurvesPlotEachSeriesAtTheRightPlace() {
        let records = [record(1, train: (1.0, 0.5), val: (0.9, 0.55)),
                       record(2, train: (0.6, 0.7), val: (0.7, 0.6)),
                       record(3, train: (0.2, 0.9), val: (0.5, 0.65))]
        let outline = parse(CurvesSVG.render(records, title: "lenet5"))
        XCTAssertEqual(outline.root, "svg")
        XCTAssertEqual(outline.groups, ["legend", "loss", "loss-train", "loss-validation",
                                        "accuracy", "accuracy-train", "accuracy-validation"])
        // Loss axis: data 0.2…1.0, range/5 = 0.16 rounds to the nice step 0.2, so the axis is
        // exactly 0.2…1.0 over y 356 (bottom) … 96 (top); epochs 1…3 span x 72…452 (left panel).
        // Train loss 1.0, 0.6, 0.2 → y 96, 356 − 0.5·260 = 226, 356.
        XCTAssertEqual(outline.polylines["loss-train"], ["72.0,96.0 262.0,226.0 452.0,356.0"])
        // Accuracy axis (percent): data 50…90, 40/5 = 8 rounds to 10 → 50…90; train 50, 70, 90
        // in the right panel (x 548…928).
        XCTAssertEqual(outline.polylines["accuracy-train"], ["548.0,356.0 738.0,226.0 928.0,96.0"])
        XCTAssertEqual(outline.texts.filter { ["0.2", "0.4", "0.6", "0.8", "1.0"].contains($0) }
                       .count, 5)
        XCTAssertTrue(outline.texts.contains("lenet5"))
        XCTAssertTrue(outline.texts.contains("validation"))
        XCTAssertFalse(outline.texts.contains("test"))
        XCTAssertTrue(outline.texts.contains("accuracy (%)"))
    }

    func testCurvesBreakLinesAtMissingValuesAndEscapeTheTitle() {
        var records = (1...4).map { record($0, train: (1 / Double($0), 0.5), test: (0.5, 0.5)) }
        records[1].trainLoss = .nan
        let title = "run <a> & \"b\""
        let outline = parse(CurvesSVG.render(records, title: title))
        XCTAssertTrue(outline.texts.contains(title))
        XCTAssertEqual(outline.polylines["loss-train"]?.count, 2)
        XCTAssertEqual(outline.polylines["loss-test"]?.count, 1)
        XCTAssertEqual(outline.groups.filter { $0.hasSuffix("validation") }, [])
    }

    func testCurvesWithNoOrOneEpochAreStillWellFormed() {
        let empty = parse(CurvesSVG.render([], title: "fresh\u{01}run"))
        XCTAssertTrue(empty.texts.contains("no epochs yet"))
        XCTAssertTrue(empty.texts.contains("freshrun"))
        let svg = CurvesSVG.render([record(1, train: (2.3, 0.1))], title: "x")
        let one = parse(svg)
        // One epoch is drawn mid-panel (axis 0…2): x = 72 + 190.
        XCTAssertEqual(one.polylines["loss-train"]?.first?.hasPrefix("262.0,"), true)
        // The check above can fail: the same file cut short is refused.
        XCTAssertNil(outline(String(svg.dropLast(8))))
    }

    func testNiceRangesUseStepsOfOneTwoOrFive() {
        // 0…1: 1/5 = 0.2 per tick; 3…97: 94/5 = 18.8 → 20, so 0…100; 1…30 by 29/5 = 5.8 → 5;
        // 1…3 by 0.4 → 0.5, made whole for epochs → 1; equal ends widen by 10 % (10 → 9…11,
        // 2/5 = 0.4 → 0.5) or by 1 around zero.
        XCTAssertTrue(CurvesSVG.niceRange(0, 1) == (0, 1, 0.2))
        XCTAssertTrue(CurvesSVG.niceRange(3, 97) == (0, 100, 20))
        XCTAssertTrue(CurvesSVG.niceRange(1, 30, integral: true) == (0, 30, 5))
        XCTAssertTrue(CurvesSVG.niceRange(1, 3, integral: true) == (1, 3, 1))
        XCTAssertTrue(CurvesSVG.niceRange(10, 10) == (9, 11, 0.5))
        XCTAssertTrue(CurvesSVG.niceRange(0, 0) == (-1, 1, 0.5))
    }
}

/// What the SVG tests look at: the root element, `<g id>`s in order, each group's polyline
/// points, and all text content.
private final class SVGOutline: NSObject, XMLParserDelegate {
    var root: String?
    var groups: [String] = []
    var polylines: [String: [String]] = [:]
    var texts: [String] = []
    private var openGroups: [String] = []
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String]) {
        if root == nil { root = name }
        if name == "g" {
            openGroups.append(attributes["id"] ?? "")
            if let id = attributes["id"] { groups.append(id) }
        }
        if name == "polyline", let group = openGroups.last {
            polylines[group, default: []].append(attributes["points"] ?? "")
        }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?,
                qualifiedName: String?) {
        if name == "g" { openGroups.removeLast() }
        if name == "text" { texts.append(text) }
        text = ""
    }
}
