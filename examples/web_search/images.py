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
    colour is turned to gray, and the image must already be 28x28."""
    if not data:
        raise ValueError("the file is empty")
    if Image is None:
        raise ValueError("uploads need Pillow (Debian package python3-pil)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.size != size:
                raise ValueError(f"the image is {img.size[0]}x{img.size[1]} pixels; it must be "
                                 f"{size[0]}x{size[1]} like Fashion-MNIST")
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except ValueError:
        raise
    except Exception as error:  # Pillow raises several kinds for non-images and truncated files
        raise ValueError(f"not a readable image ({type(error).__name__}: {error})") from None
