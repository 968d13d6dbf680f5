/// Text for the SVG files cnnctl writes (curves, gradient norms, PCA scatters).
public enum XMLText {
    /// `text` as XML character data: markup characters escaped, and the control characters XML
    /// 1.0 forbids dropped, so any run name still gives a well-formed file.
    public static func escaped(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: text.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\t" })
        return String(kept).replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
