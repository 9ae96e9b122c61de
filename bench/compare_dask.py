#!/usr/bin/python3
"""Sharded search on Dask (pstable.dask): throughput against the number of worker processes.

Database: the 60,000 Fashion-MNIST training images; queries: the 10,000 test images (one batch);
k = 10; pixels in [0, 1]. For 1 and 2 workers (a LocalCluster of worker processes, one thread
each, one shard per worker) it times a whole-batch `ShardedIndex.search` for the exact index and
an E2LSH index (by default L=32 k=12 w=12, 12 probes, min_collisions 1: the fastest setting at
recall@10 >= 0.9 in compare_all.py), and checks that the
ids and distances equal the single-machine index's, computed once in this process. Times are
wall seconds (the work runs in other processes), best of --repeats. Goal (issue 12): 2 workers
on 2 cores >= 1.6x one worker's throughput.

    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_dask.py
    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_dask.py --rows 3000 --queries 200 \\
        --repeats 1                                      # a smoke run of a few seconds
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import fashion, machine  # noqa: E402  (sets OPENBLAS/OMP threads to 1)

import numpy as np  # noqa: E402

import pstable  # noqa: E402

try:
    import dask  # noqa: E402
    import dask.array as da  # noqa: E402
    from distributed import Client, LocalCluster  # noqa: E402
    from pstable.dask import ShardedIndex  # noqa: E402
except ImportError:
    sys.exit("compare_dask.py: Dask is missing; run scripts/setup.sh python "
             "(python3-dask, python3-distributed)")

K = 10


def single_results(kind, base, queries, params):
    """The oracle: one index in this process, and its queries/second on one thread."""
    if kind == "exact":
        index = pstable.ExactIndex(base.shape[1])
    else:
        index = pstable.E2LSHIndex(base.shape[1], **params)
    index.add(base)
    start = time.perf_counter()
    result = index.search(queries, K)
    return result, len(queries) / (time.perf_counter() - start)


def sharded_qps(client, kind, base, queries, workers, params, repeats, want):
    data = da.from_array(base, chunks=(-(-len(base) // workers), -1))  # one shard per worker
    index = ShardedIndex.build(data, kind=kind, client=client, **params)
    holders = {w for ws in index.shard_workers() for w in ws}
    if len(holders) < workers:  # Dask placed the partitions; the figures would mislead
        print(f"warning: {kind}: {workers} shards on {len(holders)} worker(s)", file=sys.stderr)
    index.search(queries[:16], K)  # warm-up: imports and scratch on every worker
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ids, dist = index.search(queries, K)
        best = min(best, time.perf_counter() - start)
        equal = np.array_equal(ids, want[0]) and np.array_equal(dist, want[1])
        if not equal:
            sys.exit(f"compare_dask.py: {kind} on {workers} worker(s) differs from the single index")
    return len(queries) / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rows", type=int, default=0, help="database rows (0 = all 60,000)")
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tables", type=int, default=32)
    parser.add_argument("--hashes", type=int, default=12)
    parser.add_argument("--width", type=float, default=12.0)
    parser.add_argument("--probes", type=int, default=12)
    args = parser.parse_args()

    base, _, queries, _ = fashion(args.queries)
    if args.rows:
        base = np.ascontiguousarray(base[:args.rows])
    e2lsh = dict(num_tables=args.tables, num_hashes=args.hashes, bucket_width=args.width,
                 num_probes=args.probes, seed=1, min_collisions=1)
    print(machine())
    print(f"{len(base)} points, {len(queries)} queries, k = {K}; E2LSH {e2lsh}")
    kinds = {"exact": {}, "e2lsh": e2lsh}
    want, rows = {}, []
    for kind, params in kinds.items():
        want[kind], qps = single_results(kind, base, queries, params)
        rows.append((kind, "single (no Dask)", qps, None))
    # Dask compresses every message over 10 KB with lz4 where it pays on the data (Fashion-MNIST's
    # pixels, many zeros, do): on one machine that made sending a batch of queries 10x slower
    # than sending it as it is (docs/scale-out.md). Workers inherit this setting.
    dask.config.set({"distributed.comm.compression": None})
    for workers in args.workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=40) as cluster, \
                Client(cluster) as client:
            for kind, params in kinds.items():
                qps = sharded_qps(client, kind, base, queries, workers, params, args.repeats,
                                  want[kind])
                rows.append((kind, f"{workers} worker(s)", qps, workers))
    print(f"{'index':6} {'run':18} {'queries/s':>10} {'vs 1 worker':>12}  results")
    for kind, run, qps, workers in rows:
        one = next((q for k, _, q, w in rows if k == kind and w == 1), None)
        ratio = f"{qps / one:.2f}x" if workers and one else ""
        print(f"{kind:6} {run:18} {qps:10.0f} {ratio:>12}  {'= single' if workers else 'oracle'}")


if __name__ == "__main__":
    main()
