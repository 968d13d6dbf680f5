#if canImport(Glibc)
import Glibc
#endif
import CNNCore

/// torchvision's `ImageFolder` layout: `root/<class>/…/<file>`. The classes are the sorted
/// sub-folder names (Python's code-point order, so class indices agree with torchvision's);
/// each class folder is walked recursively, following symbolic links, its folders and files
/// in sorted order; `.png`, `.jpg` and `.jpeg` files (any case) are images, other files (and
/// files beside the class folders) are counted and ignored. A root without class folders, or a class folder without images, is an
/// error naming it.
public enum ImageFolder {
    /// Folders deeper than this below a class folder are not walked (a link cycle ends here).
    static let maxDepth = 32

    struct Listing {
        var files: [String] = []
        var labels: [Int32] = []
        var classNames: [String] = []
        var ignored = 0
        var ignoredExample: String?
        /// For a manifest, where each file is listed (`list.csv:3`), for messages.
        var places: [String]?
    }

    static func list(root: String) throws -> Listing {
        let names = try entries(of: root)
        let classes = names.filter { isDirectory(root + "/" + $0) }
        guard !classes.isEmpty else {
            throw DataError(file: root, message: "has no class folders; an image folder holds one "
                            + "folder per class (root/<class name>/<image>.png)")
        }
        var listing = Listing()
        listing.classNames = classes
        let loose = names.filter { !classes.contains($0) }
        listing.ignored = loose.count
        listing.ignoredExample = loose.first.map { root + "/" + $0 }
        for (label, name) in classes.enumerated() {
            let before = listing.files.count
            try walk(root + "/" + name, depth: 0, label: Int32(label), into: &listing)
            if listing.files.count == before {
                throw DataError(file: root + "/" + name, message: "is a class folder without images "
                                + "(.png, .jpg or .jpeg files); remove it or add images")
            }
            guard listing.files.count <= ImageFile.maxFiles else {
                throw DataError(file: root, message: "holds more than \(ImageFile.maxFiles) images")
            }
        }
        return listing
    }

    private static func walk(_ directory: String, depth: Int, label: Int32,
                             into listing: inout Listing) throws {
        var folders: [String] = []
        for name in try entries(of: directory) {
            let path = directory + "/" + name
            if isDirectory(path) {
                folders.append(path)
            } else if let dot = name.lastIndex(of: "."),
                      ImageFile.extensions.contains(name[name.index(after: dot)...].lowercased()) {
                listing.files.append(path)
                listing.labels.append(label)
            } else {
                listing.ignored += 1
                if listing.ignoredExample == nil { listing.ignoredExample = path }
            }
        }
        guard depth < maxDepth else { return }
        for folder in folders { try walk(folder, depth: depth + 1, label: label, into: &listing) }
    }

    /// The image files under `directory`, walked as a class folder is (sorted, recursive).
    public static func images(under directory: String) throws -> [String] {
        var listing = Listing()
        try walk(directory, depth: 0, label: 0, into: &listing)
        return listing.files
    }

    /// The names in `directory` but `.` and `..`, in code-point order.
    static func entries(of directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            throw DataError(file: directory, message: "cannot list the folder: "
                            + String(cString: strerror(errno)))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    /// Whether `path` is a folder, following symbolic links.
    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
