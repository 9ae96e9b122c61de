#!/usr/bin/python3
"""Runs bench/e2lsh_sweep and the peers (FAISS IndexIVFFlat, hnswlib) on Fashion-MNIST in one run
and prints single-thread queries per second at recall@10 >= 0.90, with ratios to pstable's tuned
E2LSH. Times are processor seconds (time.process_time), as in e2lsh_sweep, so a shared machine's
load does not skew the comparison.

Usage: /usr/bin/python3 bench/compare_lsh.py [path/to/e2lsh_sweep] [--queries N]
Needs the Debian packages python3-numpy, python3-faiss, python3-hnswlib (scripts/setup.sh bench).
"""
import gzip
import os
import subprocess
import sys
import time

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def idx_images(path, rows=None):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, r, c = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, r * c)
    if rows is not None:
        x = x[:rows]
    return np.ascontiguousarray(x, dtype=np.float32) / np.float32(255)


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])


def timed(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def main():
    args = sys.argv[1:]
    binary = "build-bench/bench/e2lsh_sweep"
    nq = 1000
    while args:
        a = args.pop(0)
        if a == "--queries":
            nq = int(args.pop(0))
        else:
            binary = a
    out = subprocess.run([binary, "--queries", str(nq), "--no-sweep"], check=True,
                         capture_output=True, text=True).stdout
    print(out)
    results = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            results[fields["name"]] = fields

    import faiss
    import hnswlib
    faiss.omp_set_num_threads(1)
    base = idx_images(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    queries = idx_images(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"), nq)
    flat = faiss.IndexFlatL2(base.shape[1])
    flat.add(base)
    _, truth = flat.search(queries, 10)

    rows = []
    tuned = results["tuned"]
    rows.append(("pstable E2LSH (tuned L=%s k=%s w=%.1f T=%s)" % (tuned["L"], tuned["k"], float(tuned["w"]), tuned["T"]),
                 float(tuned["recall"]), float(tuned["qps"])))

    quantizer = faiss.IndexFlatL2(base.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, base.shape[1], 256)
    ivf.train(base)
    ivf.add(base)
    for nprobe in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32):
        ivf.nprobe = nprobe
        (_, ids), secs = timed(lambda: ivf.search(queries, 10))
        r = recall(ids, truth)
        if r >= 0.90:
            rows.append(("FAISS IndexIVFFlat nlist=256 nprobe=%d" % nprobe, r, nq / secs))
            break

    hnsw = hnswlib.Index(space="l2", dim=base.shape[1])
    hnsw.init_index(max_elements=base.shape[0], M=16, ef_construction=100)
    hnsw.add_items(base, num_threads=2)
    hnsw.set_num_threads(1)
    for ef in (10, 16, 24, 32, 48, 64, 96, 128):
        hnsw.set_ef(ef)
        (ids, _), secs = timed(lambda: hnsw.knn_query(queries, k=10, num_threads=1))
        r = recall(ids, truth)
        if r >= 0.90:
            rows.append(("hnswlib M=16 efC=100 ef=%d" % ef, r, nq / secs))
            break

    exact_qps = float(results["exact"]["qps"])
    rows.append(("pstable ExactIndex (GEMM batch)", 1.0, exact_qps))
    print("| index | recall@10 | q/s (1 thread, CPU time) | pstable E2LSH q/s / this |")
    print("|---|---|---|---|")
    for name, r, qps in rows:
        print("| %s | %.3f | %.0f | %.2f |" % (name, r, qps, rows[0][2] / qps))


if __name__ == "__main__":
    main()
