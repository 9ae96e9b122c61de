#!/usr/bin/python3
"""How search cost grows with n: pstable's exact scan, tuned E2LSH and hnswlib at 60k, 250k, 1M.

Data: a synthetic mixture, so that any size can be drawn (numpy, seed 1). `--clusters` centres
c ~ N(0, I) in `--dim` dimensions; each cluster has its own random `--intrinsic`-dimensional
subspace (an orthonormal basis B); a point is c + B z + e with z ~ N(0, `--spread`^2 I) and
e ~ N(0, 0.05^2 I): overlapping clusters of low intrinsic dimension, as learned features tend
to be. Points
are drawn in one stream, so the database of size n is the first n points of the next larger
one. Queries: `--queries` further points of the same mixture. k = 10, Euclidean, float32.

For each n, one thread everywhere, q/s by the searching thread's CPU time:
- the exact scan (pstable ExactIndex), which is also the ground truth;
- E2LSH tuned by `pstable.tune` on the database with the real queries (`queries=`) for recall
  0.9; its tuning time is reported beside its build time;
- hnswlib (M 16, efConstruction 100), ef raised through 10, 16, 24, ... until recall 0.9.

Writes docs/scaling.md (a rerun replaces it) and docs/img/scaling.png. Run it with nothing else
running; it prints the load average before and after. About 8 minutes for the default sizes.

    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_scaling.py
    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_scaling.py --sizes 20000 50000 \\
        --queries 200 --out /tmp/scaling                 # a smoke run of a minute
"""
import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import machine, recall, timed  # noqa: E402  (sets OPENBLAS/OMP threads to 1)

import numpy as np  # noqa: E402

import pstable  # noqa: E402

K = 10
TARGET = 0.9
HNSW_EFS = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def mixture(count, dim, clusters, intrinsic, spread, seed):
    """`count` points of the mixture described above, and the same generator state for more."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    bases = np.linalg.qr(rng.standard_normal((clusters, dim, intrinsic)))[0].astype(np.float32)
    out = np.empty((count, dim), dtype=np.float32)
    step = 100_000
    for s in range(0, count, step):
        m = min(step, count - s)
        c = rng.integers(0, clusters, m)
        z = rng.standard_normal((m, intrinsic)).astype(np.float32) * spread
        noise = rng.standard_normal((m, dim)).astype(np.float32) * 0.05
        for a in range(0, m, 10_000):  # bases[c] of 10,000 rows: 80 MB at d = 128, 16
            b = min(m, a + 10_000)
            out[s + a:s + b] = centres[c[a:b]] + np.einsum("nij,nj->ni", bases[c[a:b]], z[a:b]) \
                + noise[a:b]
    return out


def run_size(base, queries, log):
    n = len(base)
    rows = []
    exact = pstable.ExactIndex(base.shape[1])
    _, _, build = timed(lambda: exact.add(base))
    exact.search(queries[:20], K, 1)
    (truth, _), wall, cpu = timed(lambda: exact.search(queries, K, 1))
    exact_qps = len(queries) / cpu
    rows.append(dict(n=n, index="exact scan", recall=1.0, qps=exact_qps, build=build, tune=0.0,
                     setting="", visited=float(n)))
    log(f"  n={n}: exact {exact_qps:.0f} q/s")
    del exact

    tuned, _, tune_s = timed(lambda: pstable.tune(base, K, TARGET, queries=queries,
                                                  progress=False))
    index = pstable.E2LSHIndex(base.shape[1], **tuned.params)
    _, _, build = timed(lambda: index.add(base))
    index.search(queries[:20], K, 1)
    (ids, _, visited), wall, cpu = timed(lambda: index.search(queries, K, 1, return_counts=True))
    p = tuned.params
    rows.append(dict(n=n, index="E2LSH tuned", recall=recall(ids, truth), qps=len(queries) / cpu,
                     build=build, tune=tune_s, visited=float(np.mean(visited)),
                     setting=f"L={p['num_tables']} k={p['num_hashes']} "
                             f"w={p['bucket_width']:.3g} probes={p['num_probes']} "
                             f"m={p['min_collisions']}"
                             + (" (scan faster)" if tuned.scan_is_faster else "")))
    log(f"  n={n}: e2lsh {rows[-1]['qps']:.0f} q/s recall {rows[-1]['recall']:.3f} "
        f"({rows[-1]['setting']}, tuning {tune_s:.0f} s)")
    del index

    import hnswlib
    hnsw = hnswlib.Index(space="l2", dim=base.shape[1])
    hnsw.init_index(max_elements=n, M=16, ef_construction=100)
    _, _, build = timed(lambda: hnsw.add_items(base, num_threads=1))
    hnsw.set_num_threads(1)
    for ef in HNSW_EFS:
        hnsw.set_ef(max(ef, K))
        (ids, _), wall, cpu = timed(lambda: hnsw.knn_query(queries, k=K, num_threads=1))
        r = recall(ids.astype(np.int64), truth)
        if r >= TARGET or ef == HNSW_EFS[-1]:
            break
    rows.append(dict(n=n, index="hnswlib", recall=r, qps=len(queries) / cpu, build=build,
                     tune=0.0, setting=f"M=16 efC=100 ef={ef}", visited=float("nan")))
    log(f"  n={n}: hnswlib {rows[-1]['qps']:.0f} q/s recall {r:.3f} (ef {ef}, build {build:.0f} s)")
    return rows


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, style in (("exact scan", "k-o"), ("E2LSH tuned", "b-s"), ("hnswlib", "r-^")):
        mine = [r for r in rows if r["index"] == name]
        ns = [r["n"] for r in mine]
        left.plot(ns, [r["qps"] for r in mine], style, label=name)
        right.plot(ns, [r["build"] + r["tune"] for r in mine], style,
                   label=name + (" (build + tuning)" if name == "E2LSH tuned" else ""))
    for ax, title in ((left, "queries / CPU second, one thread (recall@10 >= 0.9)"),
                      (right, "build seconds, one thread")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("points n")
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_markdown(rows, args, loads, path, image):
    lines = [
        "# Scaling: search and build cost against n",
        "",
        "Generated by `bench/compare_scaling.py`; a rerun replaces this file. "
        f"Run on {datetime.date.today().isoformat()}.",
        "",
        f"* Command: `/usr/bin/python3 bench/compare_scaling.py "
        f"--sizes {' '.join(map(str, args.sizes))} --queries {args.queries} --dim {args.dim} "
        f"--clusters {args.clusters} --intrinsic {args.intrinsic} --spread {args.spread}`.",
        f"* Data: the synthetic mixture of the script's docstring: {args.clusters} clusters in "
        f"{args.dim} dimensions, each of intrinsic dimension {args.intrinsic}, spread "
        f"{args.spread}; {args.queries} "
        "queries from the same mixture; Euclidean, k = 10, float32.",
        "* One thread for every index; q/s = queries per CPU second of the searching thread. "
        "Ground truth: the exact scan. E2LSH: `pstable.tune(base, 10, 0.9, queries=queries)`. "
        "hnswlib: M = 16, efConstruction = 100, ef raised until recall@10 >= 0.9.",
        f"* Machine: {machine()}.",
        f"* Load average (1, 5, 15 min) before the run: {loads[0]}; after: {loads[1]}.",
        "",
        "| n | index | setting | recall@10 | q/s (CPU) | ÷ exact scan | visited / query "
        "| build s | tuning s |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        scan = next(x["qps"] for x in rows if x["n"] == r["n"] and x["index"] == "exact scan")
        visited = "" if np.isnan(r["visited"]) else f"{r['visited']:,.0f} ({r['visited'] / r['n']:.2%})"
        lines.append(f"| {r['n']:,} | {r['index']} | {r['setting']} | {r['recall']:.3f} | "
                     f"{r['qps']:,.0f} | {r['qps'] / scan:.1f}x | {visited} | {r['build']:.1f} | "
                     f"{r['tune']:.0f} |")
    lines += ["", f"![q/s and build time against n]({os.path.relpath(image, os.path.dirname(path))})",
              ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 250_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--intrinsic", type=int, default=16)
    parser.add_argument("--spread", type=float, default=1.0)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs"),
                        help="directory for scaling.md and img/scaling.png")
    args = parser.parse_args()
    loads = [" ".join(f"{x:.2f}" for x in os.getloadavg())]
    print(machine())
    print(f"load average before: {loads[0]}")
    sizes = sorted(args.sizes)
    points = mixture(sizes[-1] + args.queries, args.dim, args.clusters, args.intrinsic, args.spread, 1)
    queries = np.ascontiguousarray(points[sizes[-1]:])
    rows = []
    for n in sizes:
        rows += run_size(points[:n], queries, lambda s: print(s, flush=True))
    loads.append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"load average after: {loads[1]}")
    os.makedirs(os.path.join(args.out, "img"), exist_ok=True)
    image = os.path.join(args.out, "img", "scaling.png")
    plot(rows, image)
    write_markdown(rows, args, loads, os.path.join(args.out, "scaling.md"), image)
    print(f"wrote {os.path.join(args.out, 'scaling.md')} and {image}")


if __name__ == "__main__":
    main()
