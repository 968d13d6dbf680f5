"""Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist) and PNG writing, standard library
only (zlib + struct), for the scripts that turn Fashion-MNIST into image files:
scripts/make-image-folder and scripts/make-fashion-scenes."""
import gzip
import os
import struct
import sys
import zlib

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
CLASS_COUNT = 10
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROGRAM = os.path.basename(sys.argv[0])


def fail(message):
    print(f"{PROGRAM}: {message}", file=sys.stderr)
    sys.exit(1)


def read_idx(source, name):
    """The bytes of an IDX file, NAME.gz or NAME unpacked."""
    for path, opener in ((os.path.join(source, name + ".gz"), gzip.open),
                         (os.path.join(source, name), open)):
        if os.path.isfile(path):
            try:
                with opener(path, "rb") as f:
                    return f.read()
            except (OSError, EOFError) as e:
                fail(f"cannot read {path}: {e}")
    fail(f"{name}(.gz) not found in {source}: install the Debian package dataset-fashion-mnist "
         "(scripts/setup does)")


def load_split(source, split):
    """(count, rows, cols, pixels, labels) of a split, after checking the IDX headers."""
    images_name, labels_name = FILES[split]
    images, labels = read_idx(source, images_name), read_idx(source, labels_name)
    if len(images) < 16 or struct.unpack(">I", images[:4])[0] != 0x803:
        fail(f"{images_name} is not an IDX file of unsigned bytes with 3 dimensions")
    if len(labels) < 8 or struct.unpack(">I", labels[:4])[0] != 0x801:
        fail(f"{labels_name} is not an IDX file of unsigned bytes with 1 dimension")
    count, rows, cols = struct.unpack(">III", images[4:16])
    (label_count,) = struct.unpack(">I", labels[4:8])
    if len(images) != 16 + count * rows * cols or len(labels) != 8 + label_count:
        fail(f"{split}: file sizes do not match the IDX headers")
    if label_count != count:
        fail(f"{split}: {count} images but {label_count} labels")
    if any(b >= CLASS_COUNT for b in set(labels[8:])):
        fail(f"{labels_name}: labels outside 0...{CLASS_COUNT - 1}")
    return count, rows, cols, memoryview(images)[16:], labels[8:]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class PNGWriter:
    """8-bit greyscale (colour type 0) or RGB (colour type 2) PNGs of one size: signature, IHDR,
    one IDAT (filter byte 0 before each row), IEND. The parts around the IDAT are built once."""

    def __init__(self, rows, cols, channels):
        self.rows, self.cols, self.channels = rows, cols, channels
        colour_type = 0 if channels == 1 else 2
        ihdr = struct.pack(">IIBBBBB", cols, rows, 8, colour_type, 0, 0, 0)
        self.head = PNG_SIGNATURE + chunk(b"IHDR", ihdr)
        self.tail = chunk(b"IEND", b"")
        self.stride = cols * channels
        self.scanlines = bytearray((self.stride + 1) * rows)  # filter bytes stay 0

    def encode(self, grey):
        """The PNG file of one image given as rows * cols grey bytes."""
        if self.channels == 3:
            rgb = bytearray(len(grey) * 3)
            rgb[0::3] = rgb[1::3] = rgb[2::3] = grey
            grey = rgb
        s, lines = self.stride, self.scanlines
        for r in range(self.rows):
            lines[r * (s + 1) + 1:(r + 1) * (s + 1)] = grey[r * s:(r + 1) * s]
        return self.head + chunk(b"IDAT", zlib.compress(lines, 6)) + self.tail


def palette_png(rows, cols, indices, palette):
    """A palette PNG (colour type 3, 8-bit indices) of rows * cols index bytes, with `palette`
    a list of (r, g, b): how Pascal VOC stores segmentation masks."""
    ihdr = struct.pack(">IIBBBBB", cols, rows, 8, 3, 0, 0, 0)
    plte = b"".join(struct.pack("BBB", *rgb) for rgb in palette)
    lines = bytearray((cols + 1) * rows)
    for r in range(rows):
        lines[r * (cols + 1) + 1:(r + 1) * (cols + 1)] = indices[r * cols:(r + 1) * cols]
    return (PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"PLTE", plte)
            + chunk(b"IDAT", zlib.compress(bytes(lines), 6)) + chunk(b"IEND", b""))
