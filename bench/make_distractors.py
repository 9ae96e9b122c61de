#!/usr/bin/python3
"""Writes the study's distractor set: 28x28 grey images that belong to no Fashion-MNIST class.

Two sources, both shipped by Debian packages (nothing is downloaded):
  * handwritten digits: the 1,797 8x8 digits of scikit-learn's digits set (python3-sklearn,
    UCI optdigits), scaled to a 20x20 box centred in 28x28 as MNIST does;
  * photo crops: square crops of the two photographs shipped with scikit-learn (china.jpg, a
    temple; flower.jpg, a dahlia), in grey, resized to 28x28, standing in for the report's
    MirFlickr photos. matplotlib's grace_hopper.jpg is left out on purpose: it is a portrait in
    uniform, and crops of a jacket or tie would resemble the Coat and Shirt classes.
The output is an IDX file of unsigned bytes (gzip), the format pstable_study reads.

usage: /usr/bin/python3 bench/make_distractors.py OUT.gz [--photo-crops N] [--seed S]
"""
import argparse
import gzip
import pathlib
import struct

import numpy as np
from PIL import Image

DIGITS = pathlib.Path("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz")
PHOTOS = [
    pathlib.Path("/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg"),
    pathlib.Path("/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg"),
]


def digits():
    with gzip.open(DIGITS, "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    pixels = rows[:, :64].reshape(-1, 8, 8)  # the last column is the digit's label
    out = np.zeros((len(pixels), 28, 28), dtype=np.uint8)
    for i, d in enumerate(pixels):
        small = Image.fromarray(np.uint8(np.round(d * 255 / 16)))
        out[i, 4:24, 4:24] = np.asarray(small.resize((20, 20), Image.BILINEAR))
    return out


def photo_crops(count, rng):
    photos = [np.asarray(Image.open(p).convert("L")) for p in PHOTOS]
    out = np.zeros((count, 28, 28), dtype=np.uint8)
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape
        side = int(rng.integers(28, min(h, w) // 2))
        y, x = int(rng.integers(0, h - side)), int(rng.integers(0, w - side))
        crop = Image.fromarray(photo[y:y + side, x:x + side])
        out[i] = np.asarray(crop.resize((28, 28), Image.BOX))
    return out


def write_idx(path, images):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I3I", 0x803, *images.shape))
        f.write(images.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--photo-crops", type=int, default=18203,
                        help="photo crops after the 1,797 digits (default: 20,000 items in all)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for p in [DIGITS, *PHOTOS]:
        if not p.exists():
            raise SystemExit(f"{p} is missing: run scripts/setup.sh bench")
    rng = np.random.default_rng(args.seed)
    images = np.concatenate([digits(), photo_crops(args.photo_crops, rng)])
    write_idx(args.out, images)
    print(f"wrote {len(images)} distractors to {args.out}")


if __name__ == "__main__":
    main()
