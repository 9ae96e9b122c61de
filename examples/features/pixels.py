#!/usr/bin/python3
"""Raw-pixel features of Fashion-MNIST (784-d, scaled to [0, 1]): the no-training default.

Usage: /usr/bin/python3 examples/features/pixels.py [--out build/features/pixels]
"""
import argparse
import sys
import time

import fmnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(fmnist.FEATURES_ROOT / "pixels"), help="output folder")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    base = fmnist.load_images("train").reshape(-1, 784) / 255.0
    query = fmnist.load_images("t10k").reshape(-1, 784) / 255.0
    fmnist.save_features(args.out, base, fmnist.load_labels("train"), query, fmnist.load_labels("t10k"),
                        {"kind": "pixels", "scale": 1 / 255})
    print(f"pixels: {base.shape[0]} base and {query.shape[0]} query vectors of {base.shape[1]} dims "
          f"written to {args.out} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
