#!/usr/bin/env python3
"""Batch exact search of Fashion-MNIST queries from Python vs the same search in C++.

Both sides: ExactIndex<float, Euclidean> over the 60,000 training images, the first N test
images as queries, k=10, the same thread count, the same compiler flags (the C++ program is
compiled with the flags of the Python core in use). Runs alternate (C++, Python, C++, ...) and
the best of each is reported. Run with the venv's python after `pip install ./python`:

    build/venv/bin/python python/bench/bench_vs_cpp.py [--queries 2000] [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import pstable

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/usr/share/datasets/fashion-mnist")
FLAGS = {
    "avx512": ["-mavx512f", "-mavx512cd", "-mavx512dq", "-mavx512bw", "-mavx2", "-mfma"],
    "avx2": ["-mavx2", "-mfma"],
    "sse2": [],
    "generic": [],
}


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    train = read_idx(DATA / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    test = read_idx(DATA / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    queries = np.ascontiguousarray(test[: args.queries])
    core = pstable.simd_arch()

    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp, "time_exact")
        # The flags setup.py gives the module (minus -fPIC/-shared), plus the core's -m flags.
        cmd = ["g++", "-std=c++17", "-O3", "-g0", "-DNDEBUG", "-fvisibility=hidden",
               *FLAGS[core], f"-I{ROOT / 'include'}", "-I/usr/include/eigen3",
               str(Path(__file__).with_name("time_exact.cpp")), "-o", str(exe), "-pthread"]
        subprocess.run(cmd, check=True)
        train.tofile(Path(tmp, "train.f32"))
        queries.tofile(Path(tmp, "queries.f32"))

        index = pstable.ExactIndex(784)
        index.add(train)
        cpp_times, py_times = [], []
        for _ in range(args.repeats):
            out = subprocess.run(
                [str(exe), str(Path(tmp, "train.f32")), str(len(train)),
                 str(Path(tmp, "queries.f32")), str(len(queries)), "784", "10",
                 str(args.threads), "1"],
                check=True, capture_output=True, text=True).stdout.split()
            kernels = out[1]
            cpp_times.append(float(out[3]))
            cpp_checksum = int(out[5])
            start = time.perf_counter()
            ids, _ = index.search(queries, 10, num_threads=args.threads)
            py_times.append(time.perf_counter() - start)
            assert int(ids.sum()) == cpp_checksum, "Python and C++ disagree"

    cpp, py = min(cpp_times), min(py_times)
    print(f"core {core} (C++ kernels {kernels}, module kernels {pstable._core.kernel_arch}), "
          f"{len(queries)} queries x {len(train)} points x 784, k=10, {args.threads} thread(s), "
          f"best of {args.repeats}")
    print(f"C++    {cpp:.3f} s  ({len(queries) / cpp:,.0f} queries/s)")
    print(f"Python {py:.3f} s  ({len(queries) / py:,.0f} queries/s)")
    print(f"Python / C++ = {py / cpp:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
