"""Fashion-MNIST loading and the feature-file layout shared by the feature scripts and the web app.

A feature set is a folder holding four numpy files, row i of each describing the same image:
  base.npy  (60000 x d float32)   features of the training images (the searchable database)
  base_labels.npy (60000 int64)   their classes 0..9
  query.npy (10000 x d float32)   features of the test images (the queries)
  query_labels.npy (10000 int64)
  meta.json                       {"kind": "pixels" | "cnn", ...}: how a new image becomes a vector
"""
import gzip
import json
import os
from pathlib import Path

import numpy as np

DATASET_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
REPO_ROOT = Path(__file__).resolve().parents[2]
FEATURES_ROOT = REPO_ROOT / "build" / "features"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read_idx(path, magic, header_ints):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = np.frombuffer(raw[:4 * header_ints], dtype=">u4")
    if header[0] != magic:
        raise ValueError(f"{path}: magic {header[0]:#x}, expected {magic:#x}; not an IDX file of the right kind")
    return header, np.frombuffer(raw[4 * header_ints:], dtype=np.uint8)


def load_images(split, dataset_dir=DATASET_DIR):
    """Images of split 'train' or 't10k' as an (n, 28, 28) uint8 array."""
    header, data = _read_idx(Path(dataset_dir) / f"{split}-images-idx3-ubyte.gz", 0x803, 4)
    n, rows, cols = (int(v) for v in header[1:])
    return data.reshape(n, rows, cols)


def load_labels(split, dataset_dir=DATASET_DIR):
    """Labels of split 'train' or 't10k' as an (n,) int64 array."""
    header, data = _read_idx(Path(dataset_dir) / f"{split}-labels-idx1-ubyte.gz", 0x801, 2)
    return data.astype(np.int64)


def save_features(out_dir, base, base_labels, query, query_labels, meta):
    """Writes a feature set (see the module doc) as float32 / int64 .npy files plus meta.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    np.save(out_dir / "base.npy", np.ascontiguousarray(base, dtype=np.float32))
    np.save(out_dir / "base_labels.npy", np.asarray(base_labels, dtype=np.int64))
    np.save(out_dir / "query.npy", np.ascontiguousarray(query, dtype=np.float32))
    np.save(out_dir / "query_labels.npy", np.asarray(query_labels, dtype=np.int64))


def load_features(feature_dir):
    """Reads a feature set: (base, base_labels, query, query_labels)."""
    d = Path(feature_dir)
    missing = [n for n in ("base.npy", "base_labels.npy", "query.npy", "query_labels.npy") if not (d / n).is_file()]
    if missing:
        raise FileNotFoundError(f"feature set {d} lacks {', '.join(missing)}; create it with "
                                "examples/features/pixels.py or examples/features/train_cnn.py")
    return (np.load(d / "base.npy"), np.load(d / "base_labels.npy"),
            np.load(d / "query.npy"), np.load(d / "query_labels.npy"))


def load_meta(feature_dir):
    """The feature set's meta.json ({"kind": "pixels"} when absent)."""
    path = Path(feature_dir) / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {"kind": "pixels"}
