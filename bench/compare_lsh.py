#!/usr/bin/python3
"""Runs bench/e2lsh_sweep (tuned E2LSH and the exact scan) and the peers FAISS IndexIVFFlat and
hnswlib (bench/peers.py) on Fashion-MNIST in one run, and prints single-thread queries per CPU
second at recall@10 >= 0.90, with ratios to pstable's tuned E2LSH. bench/compare_all.py is the
fuller comparison (all peers, precision, memory, build time; writes docs/benchmarks.md).

Usage: /usr/bin/python3 bench/compare_lsh.py [path/to/e2lsh_sweep] [--queries N]
Needs the Debian packages python3-numpy, python3-faiss, python3-hnswlib (scripts/setup.sh bench).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def main():
    args = sys.argv[1:]
    binary = "build/release/bench/e2lsh_sweep"
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

    base, base_labels, queries, query_labels = peers.fashion(nq)
    truth, _ = peers.faiss_flat(base, queries)
    tuned = results["tuned"]
    rows = [("pstable E2LSH (tuned L=%s k=%s w=%.1f T=%s m=%s)" % (
        tuned["L"], tuned["k"], float(tuned["w"]), tuned["T"], tuned["m"]),
             float(tuned["recall"]), float(tuned["qps"]))]
    for r in peers.run_peers(base, base_labels, queries, query_labels, truth, lsh_bits=(),
                             log=lambda s: None):
        if r["recall"] >= 0.90:
            rows.append((r["name"], r["recall"], r["qps"]))
    rows.append(("pstable ExactIndex (GEMM batch)", 1.0, float(results["exact"]["qps"])))
    print("| index | recall@10 | q/s (1 thread, CPU time) | pstable E2LSH q/s / this |")
    print("|---|---|---|---|")
    for name, r, qps in rows:
        print("| %s | %.3f | %.0f | %.2f |" % (name, r, qps, rows[0][2] / qps))


if __name__ == "__main__":
    main()
