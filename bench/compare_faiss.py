#!/usr/bin/python3
"""Exact k-NN on Fashion-MNIST: pstable's ExactIndex against FAISS IndexFlatL2, in one run.

Database: the 60,000 training images; queries: the first 2,000 test images; pixels scaled to
[0, 1]; k = 10; ONE thread for both. Prints queries/second for batch search (all queries in one
call) and one-query-at-a-time search, by CPU time of the searching thread (robust on a shared
machine) and by wall-clock time, and the ratio pstable / FAISS.

pstable's numbers come from running the bench binary (search/exact_batch/euclidean and
search/exact_scan/euclidean) as a subprocess. Run with Debian's interpreter:

    /usr/bin/python3 bench/compare_faiss.py --bench build/release/bench/pstable_bench

FAISS calls OpenBLAS for batches; OPENBLAS_* variables in the environment (OPENBLAS_CORETYPE
picks its kernels) are printed and passed through unchanged.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import blas_info, read_idx_images, timed  # noqa: E402  (sets OPENBLAS/OMP threads 1)

import numpy as np  # noqa: E402

try:
    import faiss  # noqa: E402
except ImportError:
    sys.exit("compare_faiss.py: FAISS is missing; run scripts/setup.sh bench (python3-faiss)")

NUM_QUERIES = 2000
K = 10


def faiss_numbers(train, queries, single):
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatL2(train.shape[1])
    index.add(train)
    index.search(queries[:100], K)  # warm-up
    (_, ids), wall, cpu = timed(lambda: index.search(queries, K))
    batch = (len(queries) / cpu, len(queries) / wall)
    qs = queries[:single]
    _, wall1, cpu1 = timed(lambda: [index.search(qs[i:i + 1], K) for i in range(len(qs))])
    return batch, (len(qs) / cpu1, len(qs) / wall1), ids


def pstable_numbers(bench):
    out = subprocess.run(
        [bench, "--benchmark_filter=search/exact_(batch|scan)/euclidean",
         "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    numbers = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"pstable_bench: {b['name']}: {b.get('error_message')}")
        per_iteration = NUM_QUERIES if "batch" in b["name"] else 1
        unit = scale[b["time_unit"]]
        kind = "batch" if "batch" in b["name"] else "single"
        numbers[kind] = (per_iteration / (b["cpu_time"] * unit), per_iteration / (b["real_time"] * unit))
        numbers[kind + "_label"] = b.get("label", "")
    return numbers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default="build/release/bench/pstable_bench",
                        help="path of the pstable_bench binary")
    parser.add_argument("--data", default=os.environ.get("PSTABLE_FASHION_MNIST",
                                                         "/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--single", type=int, default=500,
                        help="queries for FAISS's one-at-a-time search (default 500)")
    args = parser.parse_args()

    train_path = os.path.join(args.data, "train-images-idx3-ubyte.gz")
    if not os.path.exists(train_path):
        sys.exit(f"Fashion-MNIST not found in {args.data}; run scripts/setup.sh data")
    train = np.ascontiguousarray(read_idx_images(train_path))
    queries = np.ascontiguousarray(
        read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))[:NUM_QUERIES])

    print("environment:", {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")})
    print(f"faiss {faiss.__version__} ({faiss.get_compile_options()}); numpy {np.__version__}")
    fb, fs, _ = faiss_numbers(train, queries, args.single)
    for line in blas_info():
        print("blas:", line)
    p = pstable_numbers(args.bench)
    print(f"pstable kernels: {p.get('single_label', '')}; {p.get('batch_label', '')}")
    print(f"\nFashion-MNIST 60,000 x 784, {NUM_QUERIES} queries, k = {K}, one thread; "
          "q/s by CPU time (by wall time)")
    print(f"{'search':<28}{'pstable':>20}{'faiss':>20}{'pstable/faiss':>15}")
    for name, mine, theirs in (("batch (2,000 per call)", p["batch"], fb),
                               ("one query per call", p["single"], fs)):
        print(f"{name:<28}{mine[0]:>10.1f} ({mine[1]:>6.1f}){theirs[0]:>10.1f} ({theirs[1]:>6.1f})"
              f"{mine[0] / theirs[0]:>15.2f}")


if __name__ == "__main__":
    main()
