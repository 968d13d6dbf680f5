#if canImport(Glibc)
import Glibc
#endif

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747): 28x28 grey images of 10
/// clothing classes, 60,000 for training and 10,000 for testing, in the IDX files that
/// `torchvision.datasets.FashionMNIST` downloads. The Debian package `dataset-fashion-mnist`
/// installs them in `defaultDirectory`.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// The label names in label order, as in the dataset's README and torchvision.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    public static let splits = ["train", "test"]

    /// Loads `split` ("train": `train-*-ubyte`, "test": `t10k-*-ubyte`) from `directory`,
    /// taking the `.gz` files or their unpacked copies.
    public static func load(split: String, directory: String = defaultDirectory) throws
        -> LabeledDataset {
        guard let prefix = ["train": "train", "test": "t10k"][split] else {
            throw DataError(file: nil, message: "unknown Fashion-MNIST split \"\(split)\"; "
                            + "valid: \(splits.joined(separator: ", "))")
        }
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        func locate(_ base: String) throws -> String {
            let path = "\(dir)/\(base)"
            if access(path + ".gz", R_OK) == 0 { return path + ".gz" }
            if access(path, R_OK) == 0 { return path }
            throw DataError(file: path + ".gz", message: "Fashion-MNIST \(split) split not found"
                            + " (neither the file nor its unpacked copy is readable); install "
                            + "it with `apt-get install dataset-fashion-mnist` or give the "
                            + "directory that holds \(prefix)-images-idx3-ubyte.gz and "
                            + "\(prefix)-labels-idx1-ubyte.gz")
        }
        return try IDX.load(images: locate("\(prefix)-images-idx3-ubyte"),
                            labels: locate("\(prefix)-labels-idx1-ubyte"),
                            name: "Fashion-MNIST \(split)", classNames: classNames)
    }
}
