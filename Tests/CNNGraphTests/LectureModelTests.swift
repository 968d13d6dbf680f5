import CNNLayers
import XCTest
@testable import CNNGraph

/// The lectures' remaining ImageNet architectures, counted against their reference
/// implementations (parameters exactly; torchinfo's mult-adds at batch 1).
extension ReferenceModelTests {
    func testDenseNet121() throws {
        let g = try buildModel("densenet121.json")
        // torchvision.models.densenet121(): 7,978,856 parameters, 83,648 BN running statistics;
        // torchinfo's mult-adds 2,834,246,312.
        assertCounts(g, trainable: 7_978_856, nonTrainable: 83_648, macs: 2_834_246_312)
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "dense_bottleneck" }.count, 6 + 12 + 24 + 16)
        assertParameters(g, ["features.denseblock3.denselayer24.norm1.running_var", "features.transition2.conv.weight"])
        assertShape(g, "features.denseblock3.concat", [1_024, 14, 14])
        assertShape(g, "features.transition3.pool", [512, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testInceptionV3() throws {
        let g = try buildModel("inception_v3.json")
        // torchvision.models.inception_v3(aux_logits=False): 23,834,568 parameters; torchinfo's
        // mult-adds at 299x299: 5,713,251,528.
        assertCounts(g, trainable: 23_834_568, macs: 5_713_251_528)
        // torchvision's state_dict names (flat_names inception blocks), E splits included.
        assertParameters(g, ["Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch5x5_1.bn.running_var", "Mixed_6e.branch7x7dbl_5.conv.weight",
                     "Mixed_7b.branch3x3_2a.conv.weight", "Mixed_7c.branch3x3dbl_3b.bn.bias", "fc.weight"])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testInceptionV4() throws {
        let g = try buildModel("inception_v4.json")
        // timm inception_v4: 42,679,816 parameters; torchinfo 12,253,975,624 mult-adds, which
        // leaves out timm's BatchNormAct2d (its 63,168 weights and biases counted here).
        assertCounts(g, trainable: 42_679_816, macs: 12_253_975_624 + 63_168)
        // timm's state_dict names (flat_names inception blocks).
        assertParameters(g, ["features.0.conv.weight", "features.3.conv.conv.weight", "features.6.branch1.0.conv.weight",
                     "features.21.branch1_1a.bn.running_mean", "features.21.branch3.1.conv.weight", "last_linear.bias"])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testInceptionResNetV2() throws {
        let g = try buildModel("inception_resnet_v2.json")
        // timm inception_resnet_v2: 55,843,464 parameters; torchinfo 13,167,334,856 mult-adds
        // without timm's fused BN-act modules, + 60,544 with them.
        assertCounts(g, trainable: 55_843_464, macs: 13_167_334_856 + 60_544)
        let scales = g.nodes.compactMap { $0.layer as? ConstantScale }.map(\.factor)
        XCTAssertEqual(scales.count, 10 + 20 + 9 + 1)
        XCTAssertEqual(Set(scales), [0.17, 0.10, 0.20, 1.0])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testEfficientNetV2S() throws {
        let g = try buildModel("efficientnet_v2_s.json")
        // torchvision.models.efficientnet_v2_s(): 21,458,488 parameters, 153,872 BN running
        // statistics; torchinfo's mult-adds at 384x384: 8,365,807,216.
        assertCounts(g, trainable: 21_458_488, nonTrainable: 153_872, macs: 8_365_807_216)
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testZFNet() throws {
        let g = try buildModel("zfnet.json")
        // Derived layer by layer in the file's comment (Zeiler & Fergus 2013, Fig. 3); the feature
        // map sizes of the figure: 110, 55, 26, 13, 6.
        assertCounts(g, trainable: 62_357_608, macs: 1_169_549_800)
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "conv2d" }.map { $0.layer.outputShape[1] }, [110, 26, 13, 13, 13])
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "maxpool2d" }.map { $0.layer.outputShape[1] }, [55, 13, 6])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testKerasIMDBLSTM() throws {
        let g = try buildModel("keras_imdb_lstm.json")
        // Keras model.summary(): embedding 320,000, lstm 8,320, dense 33; total 328,353.
        assertCounts(g, trainable: 328_353, nonTrainable: 0)
        XCTAssertEqual(g.nodes.map(\.layer.parameterCount), [320_000, 8_320, 33, 0])
    }
}
