import CNNConfig
import CNNCore

extension PillowResample.Filter: ConfigEnum {}

/// The `data.transforms` lists of an image dataset, one for training and one for evaluation
/// (validation, test, eval, predict):
///
///     "transforms": {"train": [{"random_resized_crop": 224}, {"horizontal_flip": 0.5},
///                              {"normalize": "imagenet"}],
///                    "eval": [{"resize": 256}, {"center_crop": 224}, {"normalize": "imagenet"}]}
///
/// Each step is an object whose one step key holds its main value and whose other keys are its
/// options (`{"random_resized_crop": 224, "scale": [0.08, 1]}`). `normalize` ("imagenet",
/// "auto", or {"mean", "std"}) comes last: it acts on the `[0, 1]` tensor `ToTensor` makes.
struct TransformSpec: Equatable {
    var steps: [ImageTransform]
    var normalize: NormalizeSpec?

    enum NormalizeSpec: Equatable {
        /// The training images' per-channel statistics.
        case auto
        case values(Normalization)
    }

    enum Step: String, CaseIterable {
        case resize, centerCrop = "center_crop", randomResizedCrop = "random_resized_crop",
             randomCrop = "random_crop", horizontalFlip = "horizontal_flip",
             colorJitter = "color_jitter", normalize
    }

    /// torchvision's ImageNet statistics (the `"imagenet"` preset).
    static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    private struct ResizeOptions: Decodable { var interpolation: PillowResample.Filter? }
    private struct NoOptions: Decodable {}
    private struct RandomCropOptions: Decodable { var padding: Int? }
    private struct RandomResizedCropOptions: Decodable {
        var scale: [Double]?
        var ratio: [Double]?
        var interpolation: PillowResample.Filter?
    }
    private struct JitterOptions: Decodable {
        var brightness: Double?
        var contrast: Double?
        var saturation: Double?
    }

    /// The largest side a step may ask for.
    static let maxSide = 16_384

    static func decode(_ json: JSONValue, path: String, file: String) throws -> TransformSpec {
        guard case .array(let items) = json else {
            throw ConfigError(file: file, place: path, message: "expected a list of steps such as "
                              + "[{\"resize\": 256}, {\"center_crop\": 224}], got "
                              + ConfigDecoder.describe(json))
        }
        var spec = TransformSpec(steps: [], normalize: nil)
        for (k, item) in items.enumerated() {
            let place = ConfigDecoder.keyPath(path, index: k)
            if spec.normalize != nil {
                throw ConfigError(file: file, place: ConfigDecoder.keyPath(path, index: k - 1),
                                  message: "normalize must be the last step (it acts on the tensor)")
            }
            try spec.add(item, path: place, file: file)
        }
        return spec
    }

    private mutating func add(_ item: JSONValue, path: String, file: String) throws {
        let names = Step.allCases.map(\.rawValue)
        guard case .object(let object) = item else {
            throw ConfigError(file: file, place: path, message: "expected a step object such as "
                              + "{\"center_crop\": 224}, got \(ConfigDecoder.describe(item))")
        }
        let stepKeys = object.keys.filter { names.contains($0) }
        guard stepKeys.count == 1, let key = stepKeys.first, let step = Step(rawValue: key) else {
            let hint = object.keys.first.map { Suggestion.hint(for: $0, among: names) } ?? ""
            throw ConfigError(file: file, place: path, message: stepKeys.isEmpty
                ? "names no step; a step is one of \(names.joined(separator: ", "))\(hint)"
                : "names \(stepKeys.count) steps (\(stepKeys.joined(separator: ", "))); write each "
                    + "as its own object in the list")
        }
        let value = object[key]!, valuePath = ConfigDecoder.keyPath(path, key: key)
        func options<T: Decodable>(_ t: T.Type) throws -> T {
            try ConfigDecoder.decode(t, from: item, path: path, file: file, extraKeys: [key])
        }
        func fail(_ place: String, _ message: String) -> ConfigError {
            ConfigError(file: file, place: place, message: message)
        }
        func size() throws -> (Int, Int) {
            let sides: [JSONValue] = if case .array(let a) = value { a } else { [value, value] }
            let ints = sides.compactMap { if case .int(let i) = $0 { i } else { nil } }
            guard sides.count == 2, ints.count == 2, ints.allSatisfy({ (1...Self.maxSide).contains($0) }) else {
                throw fail(valuePath, "expected a size N or [height, width], each 1...\(Self.maxSide), "
                           + "got \(ConfigDecoder.describe(value))")
            }
            return (ints[0], ints[1])
        }
        func number(_ v: JSONValue?, _ place: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let v else { return nil }
            let x: Double? = switch v { case .int(let i): Double(i); case .double(let d): d; default: nil }
            guard let x, range.contains(x) else {
                throw fail(place, "expected a number in \(range.lowerBound)...\(range.upperBound), "
                           + "got \(ConfigDecoder.describe(v))")
            }
            return x
        }
        func range(_ values: [Double]?, key: String, default d: ClosedRange<Double>) throws -> ClosedRange<Double> {
            guard let values else { return d }
            guard values.count == 2, values[0] > 0, values[0] <= values[1], values[1].isFinite else {
                throw fail(ConfigDecoder.keyPath(path, key: key), "expected [low, high] with "
                           + "0 < low ≤ high, got \(values)")
            }
            return values[0]...values[1]
        }
        switch step {
        case .resize:
            let o = try options(ResizeOptions.self)
            let target: ImageTransform.Size
            if case .int(let n) = value {
                guard (1...Self.maxSide).contains(n) else {
                    throw fail(valuePath, "expected a size 1...\(Self.maxSide), got \(n)")
                }
                target = .shorterSide(n)
            } else {
                let (h, w) = try size()
                target = .exact(height: h, width: w)
            }
            steps.append(.resize(target, o.interpolation ?? .bilinear))
        case .centerCrop:
            _ = try options(NoOptions.self)
            let (h, w) = try size()
            steps.append(.centerCrop(height: h, width: w))
        case .randomResizedCrop:
            let o = try options(RandomResizedCropOptions.self)
            let (h, w) = try size()
            steps.append(.randomResizedCrop(
                height: h, width: w, scale: try range(o.scale, key: "scale", default: 0.08...1),
                ratio: try range(o.ratio, key: "ratio", default: 0.75...(4.0 / 3)),
                filter: o.interpolation ?? .bilinear))
        case .randomCrop:
            let o = try options(RandomCropOptions.self)
            let (h, w) = try size()
            let padding = o.padding ?? 0
            guard (0...Self.maxSide).contains(padding) else {
                throw fail(ConfigDecoder.keyPath(path, key: "padding"),
                           "must be 0...\(Self.maxSide) pixels, got \(padding)")
            }
            steps.append(.randomCrop(height: h, width: w, padding: padding))
        case .horizontalFlip:
            _ = try options(NoOptions.self)
            let p = value == .bool(true) ? 0.5 : try number(value, valuePath, 0...1)!
            steps.append(.horizontalFlip(probability: p))
        case .colorJitter:
            let o = try options(JitterOptions.self)
            // {"color_jitter": 0.4} sets all three; option keys override one.
            let all = try number(value, valuePath, 0...1_000) ?? 0
            let amounts = try [("brightness", o.brightness), ("contrast", o.contrast),
                               ("saturation", o.saturation)].map {
                try number($1.map(JSONValue.double), ConfigDecoder.keyPath(path, key: $0), 0...1_000) ?? all
            }
            steps.append(.colorJitter(brightness: amounts[0], contrast: amounts[1], saturation: amounts[2]))
        case .normalize:
            _ = try options(NoOptions.self)
            switch value {
            case .string("imagenet"): normalize = .values(Self.imagenet)
            case .string("auto"): normalize = .auto
            case .object:
                let c = try ConfigDecoder.decode(DataSpec.NormalizeConfig.self, from: value,
                                                 path: valuePath, file: file)
                normalize = .values(Normalization(mean: c.mean, std: c.std))
            default:
                throw fail(valuePath, "expected \"imagenet\", \"auto\" or {\"mean\": [...], \"std\": "
                           + "[...]}, got \(ConfigDecoder.describe(value))")
            }
        }
    }
}
