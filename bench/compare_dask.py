#!/usr/bin/python3
"""Sharded search on Dask (pstable.dask): throughput against the number of worker processes.

Database: the 60,000 Fashion-MNIST training images; queries: the 10,000 test images (one batch);
k = 10; pixels in [0, 1]. For 1 and 2 workers (a LocalCluster of worker processes, one thread
each, one shard per worker) it times a whole-batch `ShardedIndex.search` for the exact index and
an E2LSH index (by default L=32 k=12 w=12, 12 probes, min_collisions 1: the fastest setting at
recall@10 >= 0.9 in compare_all.py), and checks that the
ids and distances equal the single-machine index's, computed once in this process (its q/s is
on one thread, as each worker searches). The clusters of every worker count run side by side
and the repeats alternate between them, so that a drift in the machine's speed hits both sides
of a ratio alike. Times are wall seconds (the work runs in other processes), best of --repeats;
"paired" is the median and range of the per-round ratios. Goal: 2 workers on 2 cores >= 1.6x
one worker's throughput. It also prints the load average, and the single index's one-thread
q/s with this process pinned to each core in turn: a virtual machine's cores can differ in
speed, and a search over equal shards waits for the shard on the slowest.

    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_dask.py
    PYTHONPATH=build/py/python /usr/bin/python3 bench/compare_dask.py --rows 3000 --queries 200 \\
        --repeats 1                                      # a smoke run of a few seconds
"""
import argparse
import contextlib
import os
import statistics
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
    """The oracle: one index in this process, its queries/second on one thread, and its
    one-thread queries/second on each core (core_speeds)."""
    if kind == "exact":
        index = pstable.ExactIndex(base.shape[1])
    else:
        index = pstable.E2LSHIndex(base.shape[1], **params)
    index.add(base)
    start = time.perf_counter()
    result = index.search(queries, K, 1)  # one thread, as each worker searches
    return result, len(queries) / (time.perf_counter() - start), core_speeds(index, queries[:2000])


def core_speeds(index, queries):
    """One-thread queries/second of `index` with this thread pinned to each core in turn (best
    of 2 alternating rounds; empty where affinity cannot be set). The cores of a virtual
    machine can differ in speed, and a search over shards waits for its slowest shard."""
    if not hasattr(os, "sched_setaffinity"):
        return {}
    cores = sorted(os.sched_getaffinity(0))
    speeds = {}
    try:
        for _ in range(2):
            for core in cores:
                os.sched_setaffinity(0, {core})
                start = time.perf_counter()
                index.search(queries, K, 1)
                qps = len(queries) / (time.perf_counter() - start)
                speeds[core] = max(speeds.get(core, 0), qps)
    finally:
        os.sched_setaffinity(0, cores)
    return speeds


def sharded_index(client, kind, base, queries, workers, params):
    """One shard per worker, built and warmed up (imports and scratch on every worker)."""
    data = da.from_array(base, chunks=(-(-len(base) // workers), -1))
    index = ShardedIndex.build(data, kind=kind, client=client, **params)
    holders = {w for ws in index.shard_workers() for w in ws}
    if len(holders) < workers:  # Dask placed the partitions; the figures would mislead
        print(f"warning: {kind}: {workers} shards on {len(holders)} worker(s)", file=sys.stderr)
    index.search(queries[:16], K)
    return index


def timed_search(index, queries, want, what):
    """Wall seconds of one whole-batch search; exits unless it equals the single index."""
    start = time.perf_counter()
    ids, dist = index.search(queries, K)
    seconds = time.perf_counter() - start
    if not (np.array_equal(ids, want[0]) and np.array_equal(dist, want[1])):
        sys.exit(f"compare_dask.py: {what} differs from the single index")
    return seconds


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
    parser.add_argument("--profile", action="store_true",
                        help="leave Dask's statistical profiler on in the workers (its default)")
    args = parser.parse_args()

    base, _, queries, _ = fashion(args.queries)
    if args.rows:
        base = np.ascontiguousarray(base[:args.rows])
    e2lsh = dict(num_tables=args.tables, num_hashes=args.hashes, bucket_width=args.width,
                 num_probes=args.probes, seed=1, min_collisions=1)
    print(machine())
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    print(f"{len(base)} points, {len(queries)} queries, k = {K}; E2LSH {e2lsh}")
    kinds = {"exact": {}, "e2lsh": e2lsh}
    want, rows = {}, []
    for kind, params in kinds.items():
        want[kind], qps, by_core = single_results(kind, base, queries, params)
        rows.append((kind, "single (no Dask)", qps, None, ""))
        if by_core:
            print(f"{kind}: one-thread q/s by core: " +
                  ", ".join(f"cpu{c} {q:.0f}" for c, q in by_core.items()) +
                  f" (slowest/fastest {min(by_core.values()) / max(by_core.values()):.2f})")
    # Dask compresses every message over 10 KB with lz4 where it pays on the data (Fashion-MNIST's
    # pixels, many zeros, do): on one machine that made sending a batch of queries 10x slower
    # than sending it as it is (docs/scale-out.md). Workers inherit this setting.
    dask.config.set({"distributed.comm.compression": None})
    # Dask's workers sample their task threads' Python stacks every 10 ms. A pstable search is
    # one Python frame around C++ (nothing to learn), but each sample wakes a thread that
    # takes the GIL: with every core busy it preempts a search (docs/scale-out.md).
    dask.config.set({"distributed.worker.profile.enabled": args.profile})
    print(f"Dask: compression off, worker profiler {'on' if args.profile else 'off'}")
    # Every cluster runs at once (idle ones cost next to nothing) and the repeats alternate
    # between them: this VM's speed drifts by 10-25 % within a minute, and timing 1 worker, then
    # 2, compared different moments of it. Each figure is the best of its repeats; the ratio's
    # spread is that of the paired repeats (each n-worker time against the 1-worker time of the
    # same round).
    with contextlib.ExitStack() as stack:
        clients = {}
        for workers in args.workers:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=40))
            clients[workers] = stack.enter_context(Client(cluster))
        for kind, params in kinds.items():
            indexes = {w: sharded_index(c, kind, base, queries, w, params)
                       for w, c in clients.items()}
            times = {w: [] for w in indexes}
            for _ in range(args.repeats):
                for w, index in indexes.items():
                    times[w].append(timed_search(index, queries, want[kind],
                                                 f"{kind} on {w} worker(s)"))
            for w, ts in times.items():
                paired = [one / t for one, t in zip(times.get(1, ts), ts)]
                spread = (f"{statistics.median(paired):.2f}x "
                          f"({min(paired):.2f}-{max(paired):.2f})") if w != 1 and 1 in times else ""
                rows.append((kind, f"{w} worker(s)", len(queries) / min(ts), w, spread))
    print(f"{'index':6} {'run':18} {'queries/s':>10} {'vs 1 worker':>12} "
          f"{'paired: median (range)':>24}  results")
    for kind, run, qps, workers, paired in rows:
        one = next((q for k, _, q, w, _ in rows if k == kind and w == 1), None)
        ratio = f"{qps / one:.2f}x" if workers and one else ""
        print(f"{kind:6} {run:18} {qps:10.0f} {ratio:>12} {paired:>24}  "
              f"{'= single' if workers else 'oracle'}")
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
