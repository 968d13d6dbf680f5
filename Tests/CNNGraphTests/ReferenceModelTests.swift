import Foundation
import XCTest
@testable import CNNGraph
import CNNLayers
import CNNCore

/// The reference model configs in `configs/models/` build, and build exactly the published
/// architectures: parameter counts to the last parameter, and the shapes the papers and reference
/// implementations give.
///
/// Counting conventions: "trainable" is what PyTorch's `sum(p.numel() for p in m.parameters())`
/// and Keras's "Trainable params" count (weights, biases, BN γ/β); "non-trainable" is the BN
/// running mean and variance, 2 per BN channel (Keras's "Non-trainable params"; PyTorch keeps them
/// as buffers, together with one `num_batches_tracked` counter per BN that is not modelled here).
final class ReferenceModelTests: XCTestCase {
    /// `configs/models/`, found from this file: Tests/CNNGraphTests/ReferenceModelTests.swift → ../../
    static let modelsDirectory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // Tests/CNNGraphTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
        .appendingPathComponent("configs/models").path

    // MARK: - Helpers

    func buildModel(_ file: String, line: UInt = #line) throws -> Graph {
        let path = Self.modelsDirectory + "/" + file
        do {
            return try ConfigFile.load(path).buildGraph()
        } catch {
            XCTFail("\(file) does not build: \(error)", line: line)
            throw error
        }
    }

    func nonTrainable(_ g: Graph) -> Int {
        g.parameters.filter { !$0.spec.isTrainable }.reduce(0) { $0 + $1.spec.shape.count }
    }

    /// Trainable parameters of the nodes inside the top-level entry `name` (a block or a layer).
    func trainable(_ g: Graph, under name: String) -> Int {
        g.parameters.filter { p in
            let node = g.nodes[p.node]
            return p.spec.isTrainable && (node.blocks.first?.name ?? node.layer.name) == name
        }.reduce(0) { $0 + $1.spec.shape.count }
    }

    /// Trainable parameters per top-level entry, for failure messages (where a count is off).
    func breakdown(_ g: Graph) -> String {
        var order: [String] = [], sums: [String: Int] = [:]
        for p in g.parameters where p.spec.isTrainable {
            let node = g.nodes[p.node]
            let top = node.blocks.first?.name ?? node.layer.name
            if sums[top] == nil { order.append(top) }
            sums[top, default: 0] += p.spec.shape.count
        }
        return order.map { "\($0) \(sums[$0]!)" }.joined(separator: ", ")
    }

    /// Trainable parameters, and where given the running statistics and the MACs (torchinfo's
    /// mult-adds at batch 1).
    func assertCounts(_ g: Graph, trainable expected: Int, nonTrainable expectedStats: Int? = nil,
                      macs expectedMACs: Int? = nil, line: UInt = #line) {
        XCTAssertEqual(trainable(g), expected, "\(g.name) trainable parameters; per entry: \(breakdown(g))",
                       line: line)
        if let expectedStats {
            XCTAssertEqual(nonTrainable(g), expectedStats, "\(g.name) BN running statistics", line: line)
        }
        if let expectedMACs {
            XCTAssertEqual(g.nodes.reduce(0) { $0 + $1.layer.macs }, expectedMACs, "\(g.name) MACs", line: line)
        }
    }

    /// Each of `names` is a parameter of `g` (keys of the reference implementation's state_dict).
    func assertParameters(_ g: Graph, _ names: [String], line: UInt = #line) {
        for name in names { XCTAssertNotNil(g.parameters.first { $0.name == name }, name, line: line) }
    }

    func assertShape(_ g: Graph, _ node: String, _ expected: Shape, line: UInt = #line) {
        guard let n = g.node(named: node) else {
            XCTFail("\(g.name) has no node \"\(node)\"", line: line)
            return
        }
        XCTAssertEqual(n.layer.outputShape, expected, "\(g.name) \(node) output shape", line: line)
    }

    func outputShapes(_ g: Graph) -> [Shape] { g.outputs.map { g.nodes[$0].layer.outputShape } }

    /// Names of the nodes that carry shape notes (inexact output-size arithmetic), sorted.
    func notedNodes(_ g: Graph) -> [String] {
        g.nodes.filter { !$0.notes.isEmpty }.map(\.layer.name).sorted()
    }

    // MARK: - LeNet-5

    func testLeNet5() throws {
        let g = try buildModel("lenet5.json")
        // c1 6·(25 + 1) = 156, c3 16·(6·25 + 1) = 2,416, f5 400·120 + 120 = 48,120,
        // f6 120·84 + 84 = 10,164, out 84·10 + 10 = 850: 61,706 (the d2l.ai / PyTorch-tutorial
        // LeNet with padding 2 on 28x28 MNIST).
        assertCounts(g, trainable: 61_706, nonTrainable: 0)
        assertShape(g, "c1", [6, 28, 28])     // padding 2 keeps 28x28
        assertShape(g, "s2", [6, 14, 14])
        assertShape(g, "s4", [16, 5, 5])      // (14 − 5)/1 + 1 = 10, pooled to 5
        assertShape(g, "flatten", [400])
        XCTAssertEqual(outputShapes(g), [[10]])
        XCTAssertEqual(notedNodes(g), [])     // every size divides exactly
        XCTAssertNotNil(g.description)
    }

    func testLeNet5Classic() throws {
        let g = try buildModel("lenet5_classic.json")
        // LeCun et al. 1998 §II.B: C1 156, C3 1,516, C5 48,120, F6 10,164 parameters; plus our
        // dense 84 → 10 output 850 (the paper's fixed RBF output and S2/S4 coefficients are not
        // modelled): 60,806.
        assertCounts(g, trainable: 60_806, nonTrainable: 0)
        // The paper: "Layer C3 has 1,516 trainable parameters" (60 kernels of 5x5 + 16 biases).
        XCTAssertEqual(g.node(named: "c3")?.layer.parameterCount, 1_516)
        XCTAssertEqual(g.node(named: "c1")?.layer.parameterCount, 156)      // the paper's C1
        XCTAssertEqual(g.node(named: "c5")?.layer.parameterCount, 48_120)   // the paper's C5
        XCTAssertEqual(g.node(named: "f6")?.layer.parameterCount, 10_164)   // the paper's F6
        assertShape(g, "c1", [6, 28, 28])     // the paper: 28x28 feature maps
        assertShape(g, "s2", [6, 14, 14])
        assertShape(g, "c3", [16, 10, 10])
        assertShape(g, "s4", [16, 5, 5])
        assertShape(g, "c5", [120, 1, 1])     // the paper: C5's maps are 1x1
        XCTAssertEqual(outputShapes(g), [[10]])
        XCTAssertEqual(notedNodes(g), [])
    }

    // MARK: - AlexNet, VGG

    func testAlexNet() throws {
        let g = try buildModel("alexnet.json")
        // torchvision.models.alexnet(): sum(p.numel() for p in m.parameters()) = 61,100,840
        // (also torchvision's weights table: AlexNet_Weights.IMAGENET1K_V1 "num_params": 61100840).
        assertCounts(g, trainable: 61_100_840, nonTrainable: 0)
        assertShape(g, "features.conv1", [64, 55, 55])
        assertShape(g, "features.pool2", [192, 13, 13])
        assertShape(g, "features.pool5", [256, 6, 6])   // = torchvision's AdaptiveAvgPool2d((6, 6)) output at 224
        assertShape(g, "flatten", [9_216])              // 256·6·6, torchvision's classifier in_features
        XCTAssertEqual(outputShapes(g), [[1_000]])
        // conv1 is inexact, (224 − 11 + 2·2)/4 + 1 = 55.25, floored to 55 as in PyTorch, but the
        // one position left after the last window is right padding: no real pixel goes unread.
        XCTAssertEqual(notedNodes(g), [])
    }

    func testVGG16() throws {
        let g = try buildModel("vgg16.json")
        // torchvision.models.vgg16(): sum(p.numel() for p in m.parameters()) = 138,357,544
        // (torchvision weights table VGG16_Weights.IMAGENET1K_V1 "num_params": 138357544).
        assertCounts(g, trainable: 138_357_544, nonTrainable: 0)
        // 13 convolutions and 3 dense layers (the "16").
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "conv2d" }.count, 13)
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "dense" }.count, 3)
        assertShape(g, "block1.conv.1", [64, 224, 224])
        assertShape(g, "block3.pool", [256, 28, 28])
        assertShape(g, "block5.pool", [512, 7, 7])      // = torchvision's AdaptiveAvgPool2d((7, 7)) output at 224
        assertShape(g, "flatten", [25_088])             // 512·7·7
        XCTAssertEqual(outputShapes(g), [[1_000]])
        // 3x3/1 pad-1 convolutions and 2x2/2 pools on 224, 112, 56, 28, 14: every size is exact.
        XCTAssertEqual(notedNodes(g), [])
    }

    // MARK: - ResNets

    func testResNet18() throws {
        let g = try buildModel("resnet18.json")
        // torchvision.models.resnet18(): sum(p.numel() for p in m.parameters()) = 11,689,512.
        // BN channels: 64 (bn1) + 4·64 + (4·128 + 128) + (4·256 + 256) + (4·512 + 512) = 4,800,
        // each with running_mean and running_var: 9,600.
        assertCounts(g, trainable: 11_689_512, nonTrainable: 2 * 4_800)
        assertShape(g, "maxpool", [64, 56, 56])
        assertShape(g, "layer1.1_relu", [64, 56, 56])
        assertShape(g, "layer2.1_relu", [128, 28, 28])
        assertShape(g, "layer3.1_relu", [256, 14, 14])
        assertShape(g, "layer4.1_relu", [512, 7, 7])    // layer4 output
        assertShape(g, "avgpool", [512])
        XCTAssertEqual(outputShapes(g), [[1_000]])
        // torchvision's state_dict names: projections only where the shape changes.
        XCTAssertNotNil(g.node(named: "layer2.0.downsample.0"))
        XCTAssertNotNil(g.node(named: "layer2.0.downsample.1"))
        XCTAssertNil(g.node(named: "layer1.0.downsample.0"))
        XCTAssertNil(g.node(named: "layer2.1.downsample.0"))
        XCTAssertEqual(g.node(named: "layer3.0.downsample.0")?.layer.parameterSpecs.map(\.shape),
                       [[256, 128, 1, 1]])              // 1x1, no bias
        // Every stride-2 window on an even size divides inexactly — conv1 (224 − 7 + 2·3)/2 + 1 =
        // 112.5, maxpool (112 − 3 + 2)/2 + 1 = 56.5, the 3x3/2 convs (56 − 3 + 2)/2 + 1 = 28.5 — but
        // what the last window leaves out is right padding, and the 1x1/2 projections skip every
        // other pixel by design; no real pixel is lost, so there are no notes.
        XCTAssertEqual(notedNodes(g), [])
    }

    func testResNet50() throws {
        let g = try buildModel("resnet50.json")
        // torchvision.models.resnet50(): sum(p.numel() for p in m.parameters()) = 25,557,032.
        // BN channels: 64 + layer1 3·(64 + 64 + 256) + 256 + layer2 4·(128 + 128 + 512) + 512
        // + layer3 6·(256 + 256 + 1024) + 1024 + layer4 3·(512 + 512 + 2048) + 2048 = 26,560.
        assertCounts(g, trainable: 25_557_032, nonTrainable: 2 * 26_560)
        // layer1.0 changes 64 → 256 channels at stride 1: "auto" gives it a 1x1 projection.
        XCTAssertEqual(g.node(named: "layer1.0.downsample.0")?.layer.parameterSpecs.map(\.shape),
                       [[256, 64, 1, 1]])
        XCTAssertNil(g.node(named: "layer1.1.downsample.0"))
        // v1.5: the stride is on the 3x3 conv2, not the 1x1 conv1.
        assertShape(g, "layer2.0.conv1", [128, 56, 56])
        assertShape(g, "layer2.0.conv2", [128, 28, 28])
        assertShape(g, "layer1.2_relu", [256, 56, 56])
        assertShape(g, "layer2.3_relu", [512, 28, 28])
        assertShape(g, "layer3.5_relu", [1_024, 14, 14])
        assertShape(g, "layer4.2_relu", [2_048, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testResNet20CIFAR() throws {
        let g = try buildModel("resnet20_cifar.json")
        // He et al. 2016 Table 6: 0.27M; exactly 269,722 (stem 432 + 32, stage 1 14,016,
        // stage 2 51,072, stage 3 203,520, dense 650), the count the usual PyTorch reference
        // (akamaster/pytorch_resnet_cifar10 resnet20) gives. Option-A shortcuts have no parameters.
        // BN channels: 16 + 6·16 + 6·32 + 6·64 = 688 → 1,376 running statistics.
        assertCounts(g, trainable: 269_722, nonTrainable: 2 * 688)
        // 6n + 2 = 20 weighted layers: 19 convolutions and 1 dense.
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "conv2d" }.count, 19)
        assertShape(g, "layer1.2_relu", [16, 32, 32])
        assertShape(g, "layer2.0.shortcut_subsample", [16, 16, 16])
        assertShape(g, "layer2.0.shortcut_pad", [32, 16, 16])
        assertShape(g, "layer2.2_relu", [32, 16, 16])
        assertShape(g, "layer3.2_relu", [64, 8, 8])
        XCTAssertNil(g.node(named: "layer2.0.downsample.0"))
        XCTAssertEqual(g.node(named: "layer3.0.shortcut_pad")?.layer.parameterCount, 0)
        XCTAssertEqual(outputShapes(g), [[10]])
    }

    // MARK: - GoogLeNet

    func testGoogLeNet() throws {
        let g = try buildModel("googlenet.json")
        // torchvision.models.googlenet(aux_logits=False, init_weights=True):
        // sum(p.numel() for p in m.parameters()) = 6,624,904 (GoogLeNet_Weights "num_params").
        // BN channels: stem 64 + 64 + 192, and per module ch1x1 + ch3x3red + ch3x3 + ch5x5red
        // + ch5x5 + pool_proj: 368 + 640 + 624 + 648 + 664 + 704 + 1024 + 1024 + 1264 → 7,280.
        assertCounts(g, trainable: 6_624_904, nonTrainable: 2 * 7_280)
        assertShape(g, "maxpool1", [64, 56, 56])
        assertShape(g, "maxpool2", [192, 28, 28])
        assertShape(g, "inception3a.concat", [256, 28, 28])   // 64 + 128 + 32 + 32
        assertShape(g, "inception3b.concat", [480, 28, 28])
        assertShape(g, "maxpool3", [480, 14, 14])
        assertShape(g, "inception4e.concat", [832, 14, 14])
        assertShape(g, "maxpool4", [832, 7, 7])
        assertShape(g, "inception5b.concat", [1_024, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
        // torchvision's "5x5" branch is 3x3 (pytorch/vision#906): 48 → 128 channels, 3x3, no bias.
        XCTAssertEqual(g.node(named: "inception5b.branch3.1.conv")?.layer.parameterSpecs.map(\.shape),
                       [[128, 48, 3, 3]])
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "batchnorm" }.count, 3 + 9 * 6)
        // conv1 (224 − 7 + 2·3)/2 + 1 = 112.5 leaves only right padding unread; the three 3/2
        // ceil-mode pools are inexact but ceil mode adds a last window (112 → 56, 56 → 28,
        // 28 → 14) that reads the remaining pixels. No real pixel is lost: no notes.
        XCTAssertEqual(notedNodes(g), [])
        XCTAssertEqual(g.node(named: "maxpool1")?.layer.outputShape, [64, 56, 56])
    }

    func testGoogLeNetAux() throws {
        let g = try buildModel("googlenet_aux.json")
        // torchvision.models.googlenet(aux_logits=True, init_weights=True):
        // sum(p.numel() for p in m.parameters()) = 13,004,888.
        // BN channels: the trunk's 7,280 + 128 in each auxiliary BasicConv2d = 7,536.
        assertCounts(g, trainable: 13_004_888, nonTrainable: 2 * 7_536)
        // InceptionAux on 4a (512 channels): conv 512·128 + BN 2·128 = 65,792, fc1 2048·1024 + 1024
        // = 2,098,176, fc2 1024·1000 + 1000 = 1,025,000: 3,188,968; on 4d (528 channels) 3,191,016.
        XCTAssertEqual(trainable(g, under: "aux1"), 3_188_968)
        XCTAssertEqual(trainable(g, under: "aux2"), 3_191_016)
        // The trunk alone is googlenet.json's 6,624,904.
        XCTAssertEqual(trainable(g) - trainable(g, under: "aux1") - trainable(g, under: "aux2"), 6_624_904)
        assertShape(g, "aux1.pool", [512, 4, 4])
        assertShape(g, "aux2.pool", [528, 4, 4])
        assertShape(g, "aux1.flatten", [2_048])            // 128·4·4, InceptionAux.fc1 in_features
        assertShape(g, "inception5b.concat", [1_024, 7, 7])
        // Main head first, then aux1, aux2.
        XCTAssertEqual(g.outputs.map { g.nodes[$0].layer.name }, ["fc", "aux1.fc2", "aux2.fc2"])
        XCTAssertEqual(outputShapes(g), [[1_000], [1_000], [1_000]])
        // The trunk resumes from the inception outputs, not from the heads.
        let inception4b = g.nodes.first { $0.layer.name == "inception4b.branch1.conv" }!
        XCTAssertEqual(inception4b.inputs.map { g.nodes[$0].layer.name }, ["inception4a.concat"])
        let inception4e = g.nodes.first { $0.layer.name == "inception4e.branch1.conv" }!
        XCTAssertEqual(inception4e.inputs.map { g.nodes[$0].layer.name }, ["inception4d.concat"])
        // (14 − 5)/3 + 1 = 4 exactly: the aux pools add no notes either.
        XCTAssertEqual(notedNodes(g), [])
    }

    // MARK: - Xception

    func testXception() throws {
        let g = try buildModel("xception.json")
        // keras.applications.Xception(weights=None).summary(): "Total params: 22,910,480",
        // "Trainable params: 22,855,952", "Non-trainable params: 54,528" (the BN moving mean and
        // variance of 27,264 BN channels).
        assertCounts(g, trainable: 22_855_952, nonTrainable: 54_528)
        // Spatial sizes 299 → 149 → 147 → 74 → 37 → 19 → 10.
        assertShape(g, "block1_conv1", [32, 149, 149])
        assertShape(g, "block1_conv2", [64, 147, 147])
        assertShape(g, "block2.add", [128, 74, 74])
        assertShape(g, "block3.add", [256, 37, 37])
        assertShape(g, "block4.add", [728, 19, 19])
        assertShape(g, "middle.7.add", [728, 19, 19])
        assertShape(g, "block13.add", [1_024, 10, 10])
        assertShape(g, "block14.sepconv2_act", [2_048, 10, 10])   // before pooling
        XCTAssertEqual(outputShapes(g), [[1_000]])
        // Keras SeparableConv2D(use_bias=False): depthwise [C, 1, 3, 3] and pointwise [F, C, 1, 1].
        XCTAssertEqual(g.node(named: "block14.sepconv2.depthwise")?.layer.parameterSpecs.map(\.shape),
                       [[1_536, 1, 3, 3]])
        XCTAssertEqual(g.node(named: "block14.sepconv2.pointwise")?.layer.parameterSpecs.map(\.shape),
                       [[2_048, 1_536, 1, 1]])
        // Middle flow: 8 blocks × 3 × (728·9 + 728·728 + 2·728 BN) = 24 × 538,720.
        XCTAssertEqual(trainable(g, under: "middle"), 24 * (728 * 9 + 728 * 728 + 2 * 728))
        // block3's 1x1/2 shortcut, (74 − 1)/2 + 1 = 37.5 → 37, skips every other pixel by design
        // (as TF's "same" 1x1/2); the 74 → 37 pool is exact with TF's asymmetric "same" padding
        // [0, 1, 0, 1]. No notes.
        XCTAssertEqual(notedNodes(g), [])
    }

    // MARK: - MobileNetV2, EfficientNet

    func testMobileNetV2() throws {
        let g = try buildModel("mobilenet_v2.json")
        // torchvision.models.mobilenet_v2(): sum(p.numel() for p in m.parameters()) = 3,504,872
        // (MobileNet_V2_Weights "num_params": 3504872).
        // BN channels: 32 (stem) + Σ over blocks (expanded · 2 + output; expanded once for t = 1)
        // + 1280 (head) = 17,056.
        assertCounts(g, trainable: 3_504_872, nonTrainable: 2 * 17_056)
        XCTAssertEqual(g.nodes.filter { $0.blocks.contains { $0.type == "mbconv" } && $0.layer.type == "add" }.count,
                       10)                              // residual adds: 17 blocks − 7 stage-first blocks
        assertShape(g, "stem.act", [32, 112, 112])
        assertShape(g, "stage1.0.project.bn", [16, 112, 112])
        assertShape(g, "stage2.0.expand.conv", [96, 112, 112])   // t = 6 on 16 channels; stride on the depthwise
        assertShape(g, "stage2.0.depthwise.conv", [96, 56, 56])
        assertShape(g, "stage4.3.add", [64, 14, 14])
        assertShape(g, "stage6.2.add", [160, 7, 7])
        assertShape(g, "stage7.0.project.bn", [320, 7, 7])
        assertShape(g, "head.act", [1_280, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testEfficientNetB0() throws {
        let g = try buildModel("efficientnet_b0.json")
        // torchvision.models.efficientnet_b0(): sum(p.numel() for p in m.parameters()) = 5,288,548
        // (EfficientNet_B0_Weights "num_params": 5288548).
        // BN channels: 32 + Σ over blocks (expanded · 2 + output; once for ratio 1) + 1280 = 21,008.
        assertCounts(g, trainable: 5_288_548, nonTrainable: 2 * 21_008)
        // SE width is max(1, input_channels // 4) of the block input, not of the expanded width:
        // stage2.0 reads 16 channels, expands to 96, squeezes to 4.
        XCTAssertEqual(g.node(named: "stage2.0.se.fc1")?.layer.parameterSpecs.map(\.shape),
                       [[4, 96, 1, 1], [4]])
        XCTAssertEqual(g.node(named: "stage1.0.se.fc1")?.layer.parameterSpecs.map(\.shape),
                       [[8, 32, 1, 1], [8]])
        // 5x5 depthwise in stage 3.
        XCTAssertEqual(g.node(named: "stage3.0.depthwise.conv")?.layer.parameterSpecs.map(\.shape),
                       [[144, 1, 5, 5]])
        assertShape(g, "stem.act", [32, 112, 112])
        assertShape(g, "stage2.1.add", [24, 56, 56])
        assertShape(g, "stage3.1.add", [40, 28, 28])
        assertShape(g, "stage5.2.add", [112, 14, 14])
        assertShape(g, "stage6.3.add", [192, 7, 7])
        assertShape(g, "stage7.0.project.bn", [320, 7, 7])   // before the head
        assertShape(g, "head.act", [1_280, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testResNet20Fashion() throws {
        let g = try buildModel("resnet20_fashion.json")
        // resnet20_cifar's 269,722 minus the stem's 16·2·3·3 = 288 weights for the absent channels.
        assertCounts(g, trainable: 269_434, nonTrainable: 1_376)
        assertShape(g, "layer3.2.add", [64, 7, 7])
    }

    // MARK: - All files

    func testVGG19() throws {
        let g = try buildModel("vgg19.json")
        // torchvision.models.vgg19(): sum(p.numel() for p in m.parameters()) = 143,667,240.
        assertCounts(g, trainable: 143_667_240, nonTrainable: 0)
        // 16 convolutions and 3 dense layers (the "19").
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "conv2d" }.count, 16)
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "dense" }.count, 3)
        // torchinfo's mult-adds at batch 1 (convolutions and dense layers, bias adds included).
        XCTAssertEqual(g.nodes.reduce(0) { $0 + $1.layer.macs }, 19_646_923_752)
        assertShape(g, "block5.pool", [512, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
        XCTAssertEqual(notedNodes(g), [])
    }

    func testResNeXt50() throws {
        let g = try buildModel("resnext50_32x4d.json")
        // torchvision.models.resnext50_32x4d(): 25,028,904 parameters, 68,224 BN running
        // statistics; torchinfo's mult-adds at batch 1: 4,230,549,096.
        assertCounts(g, trainable: 25_028_904, nonTrainable: 68_224, macs: 4_230_549_096)
        // Inner width 2·filters in 32 groups: layer1's 3x3 is 128 → 128 in groups of 4 channels.
        XCTAssertEqual(g.node(named: "layer1.0.conv2")?.layer.parameterSpecs.map(\.shape), [[128, 4, 3, 3]])
        assertShape(g, "layer2.0.conv2", [256, 28, 28])
        assertShape(g, "layer4.2_relu", [2048, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
    }

    func testConvNeXtTiny() throws {
        let g = try buildModel("convnext_tiny.json")
        // torchvision.models.convnext_tiny(): 28,589,128 parameters, no running statistics; MACs
        // per position as forward hooks count them (the table): 4,468,983,208.
        assertCounts(g, trainable: 28_589_128, nonTrainable: 0, macs: 4_468_983_208)
        XCTAssertEqual(g.nodes.filter { $0.layer.type == "layer_scale" }.count, 18)   // 3 + 3 + 9 + 3 blocks
        assertShape(g, "stem", [96, 56, 56])
        assertShape(g, "stage3.8.add", [384, 14, 14])
        assertShape(g, "down3", [768, 7, 7])
        XCTAssertEqual(outputShapes(g), [[1_000]])
        XCTAssertEqual(notedNodes(g), [])
    }

    /// Every file in configs/models has a leading // comment and a description, and builds.
    func testEveryModelFileIsDocumented() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.modelsDirectory)
            .filter { $0.hasSuffix(".json") }.sorted()
        for name in ["lenet5", "lenet5_classic", "alexnet", "vgg16", "vgg19", "resnet18", "resnet50",
                     "resnext50_32x4d", "convnext_tiny", "resnet20_cifar", "densenet121", "inception_v3", "inception_v4",
                     "inception_resnet_v2", "efficientnet_v2_s", "zfnet",
                     "googlenet", "googlenet_aux", "xception", "mobilenet_v2", "efficientnet_b0"] {
            XCTAssertTrue(files.contains(name + ".json"), "missing \(name).json")
        }
        for file in files {
            let text = try String(contentsOfFile: Self.modelsDirectory + "/" + file, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix("//"), "\(file) should begin with a // comment naming its source")
            XCTAssertTrue(text.contains("Expected parameters"), "\(file) should state its parameter count")
            let g = try buildModel(file)
            XCTAssertFalse((g.description ?? "").isEmpty, "\(file) has no description")
            XCTAssertEqual(g.name + ".json", file, "model name should match the file name")
        }
    }
}
