"""28x28 grayscale images to PNG and back: Pillow when present, else a minimal zlib writer/reader."""
import io
import struct
import zlib

import numpy as np

try:
    from PIL import Image
except ImportError:  # Debian's python3-pil missing: PNG by hand
    Image = None


def png_bytes(image):
    """PNG file bytes of a 2-d uint8 array (8-bit grayscale)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if Image is not None:
        out = io.BytesIO()
        Image.fromarray(image, mode="L").save(out, format="PNG")
        return out.getvalue()
    height, width = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(height))  # filter 0 per row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def read_upload(data, size=(28, 28)):
    """The uploaded file as a (28, 28) uint8 array; ValueError saying what is wrong otherwise.

    Fashion-MNIST shows light clothes on black; any image format Pillow reads is accepted,
    colour is turned to gray, and an image of another size is resized to 28x28 (stretched)."""
    if not data:
        raise ValueError("the file is empty")
    if Image is None:
        raise ValueError("uploads need Pillow (Debian package python3-pil)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            gray = img.convert("L")
            if gray.size != size:
                gray = gray.resize(size, Image.LANCZOS)
            return np.asarray(gray, dtype=np.uint8)
    except Exception:  # Pillow raises several kinds for non-images and truncated files; their
        # messages name Python objects (<_io.BytesIO object at 0x...>), so none is shown
        raise ValueError("not a readable image: send a PNG, JPEG, GIF, BMP or WebP file") from None
