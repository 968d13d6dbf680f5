import CNNData

/// A 3×5-pixel font of the characters the pictures' legends need (digits, `.`, `-`, `+`, and the
/// lower-case letters of "min", "max", "each tile", "shared"), so a PNG can carry its own scale
/// without a font library. Each glyph is five rows of three bits, most significant bit left.
enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        "+": [0, 2, 7, 2, 0], " ": [0, 0, 0, 0, 0], "a": [0, 3, 5, 5, 3], "c": [0, 3, 4, 4, 3],
        "d": [1, 3, 5, 5, 3], "e": [0, 7, 7, 4, 7], "h": [4, 6, 5, 5, 5], "i": [2, 0, 2, 2, 2],
        "l": [2, 2, 2, 2, 3], "m": [0, 5, 7, 5, 5], "n": [0, 6, 5, 5, 5], "r": [0, 5, 6, 4, 4],
        "s": [0, 3, 6, 1, 6], "t": [2, 7, 2, 2, 3], "x": [0, 5, 2, 5, 5],
    ]

    /// Width in pixels of `text` at `scale` (a glyph and one column of space per character).
    static func width(_ text: String, scale: Int) -> Int { text.count * 4 * scale }
    static func height(scale: Int) -> Int { 5 * scale }

    /// Draws `text` into the RGB `image` with its top left at (x, y); characters outside the font
    /// are left blank, pixels outside the image are clipped.
    static func draw(_ text: String, into image: inout PixelImage, x: Int, y: Int, scale: Int, color: [UInt8]) {
        for (k, character) in text.enumerated() {
            guard let rows = glyphs[character] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<3 where bits & (4 >> c) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = x + (k * 4 + c) * scale + dx, py = y + r * scale + dy
                            guard px >= 0, py >= 0, px < image.width, py < image.height else { continue }
                            let i = (py * image.width + px) * 3
                            image.pixels[i] = color[0]; image.pixels[i + 1] = color[1]; image.pixels[i + 2] = color[2]
                        }
                    }
                }
            }
        }
    }
}
