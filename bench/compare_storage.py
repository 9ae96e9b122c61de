#!/usr/bin/python3
"""E2LSH candidate storages against each other and against hnswlib, in ONE run, from Python.

Fashion-MNIST (60,000 training images, the first N test images as queries, pixels in [0, 1]),
or with --data mixture 60,000 float points of compare_scaling.py's synthetic mixture (128-d
float features, which 8-bit codes do not hold exactly as they do pixels) and N more as queries;
Euclidean, k = 10, ONE thread. For each E2LSH setting: the full-precision storage,
storage="sq8" and storage="sq4" (8-bit or 4-bit codes first, survivors re-ranked: identical ids,
checked here), batch q/s
by the searching thread's CPU time, and the latency of one query per Python call (what a web
request or a notebook loop pays). hnswlib (M 16, efC 100) with ef raised until recall 0.90, both
ways too. With --tune, pstable.tune(storage="auto") first: the storage it keeps and each
storage's q/s on its sample. The load average is printed first: figures taken on a busy machine
are not results.

usage: PYTHONPATH=<dir holding pstable> /usr/bin/python3 bench/compare_storage.py
           [--data fashion|mixture] [--queries 2000] [--single 500] [--params L,k,w,T,m ...]
           [--tune]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

K = 10
DEFAULT_PARAMS = {"fashion": ["32,12,14,20,3", "24,12,12,20,2", "16,12,16,0,1"],
                  "mixture": ["13,12,13.66,4,1"]}


def load(data, queries):
    """(base, queries) float32 rows of the chosen data set."""
    if data == "fashion":
        base, _, q, _ = peers.fashion(queries)
        return base, q
    from compare_scaling import mixture  # the scaling benchmark's generator, same defaults
    rows = mixture(60_000 + queries, 128, 100, 16, 1.0, 1)
    return np.ascontiguousarray(rows[:60_000]), np.ascontiguousarray(rows[60_000:])


def parse(text):
    L, k, w, T, m = text.split(",")
    return dict(num_tables=int(L), num_hashes=int(k), bucket_width=float(w), num_probes=int(T),
                min_collisions=int(m))


def single_latency_us(search_one, queries):
    """Mean wall microseconds of one query per call."""
    start = time.perf_counter()
    for q in queries:
        search_one(q)
    return 1e6 * (time.perf_counter() - start) / len(queries)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--single", type=int, default=500, help="queries timed one per call")
    parser.add_argument("--data", choices=sorted(DEFAULT_PARAMS), default="fashion")
    parser.add_argument("--params", nargs="*", default=None, help="L,k,w,T,m")
    parser.add_argument("--tune", action="store_true", help='also pstable.tune(storage="auto")')
    args = parser.parse_args(argv)
    if args.params is None:
        args.params = DEFAULT_PARAMS[args.data]
    import pstable

    print(f"load average {os.getloadavg()}; {peers.machine()}")
    print(f"pstable {pstable.__version__} from {os.path.dirname(pstable.__file__)}")
    base, queries = load(args.data, args.queries)
    print(f"data: {args.data}, {base.shape[0]} x {base.shape[1]}, {len(queries)} queries")
    single = queries[:args.single]
    exact = pstable.ExactIndex.borrow(base)
    (truth, _), wall, cpu = peers.timed(lambda: exact.search(queries, K, num_threads=1))
    print(f"exact scan: {len(queries) / cpu:,.0f} q/s (CPU), recall 1.000")

    settings = [(text, parse(text)) for text in args.params]
    if args.tune:
        (tuned,), wall, cpu = peers.timed(lambda: (pstable.tune(base, storage="auto",
                                                                 progress=False),))
        p = tuned.params
        text = (f"{p['num_tables']},{p['num_hashes']},{p['bucket_width']:.4g},"
                f"{p['num_probes']},{p['min_collisions']}")
        timings = ", ".join(f"{s} {q:,.0f}" for s, q in tuned.storage_timings.items())
        print(f'tune(storage="auto"): {text}, kept {tuned.storage} ({cpu:.1f} s CPU); '
              f"q/s on its sample: {timings}")
        settings.insert(0, (f"tuned {text}", p))

    print("\n| index | recall@10 | q/s batch (CPU) | us per single-query call | build s | memory MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for text, params in settings:
        results = {}
        for storage in ("full", "sq8", "sq4"):
            index = pstable.E2LSHIndex(base.shape[1], storage=storage, **params)
            _, _, build = peers.timed(lambda: index.add(base))
            (ids, _), wall, cpu = peers.timed(lambda: index.search(queries, K, num_threads=1))
            results[storage] = ids
            lat = single_latency_us(lambda q: index.search(q, K, num_threads=1), single)
            print(f"| E2LSH {text} {storage} | {peers.recall(ids, truth):.3f} | "
                  f"{len(queries) / cpu:,.0f} | {lat:.0f} | {build:.1f} | "
                  f"{index.memory_bytes / 1e6:.0f} |", flush=True)
        for storage in ("sq8", "sq4"):
            if not np.array_equal(results["full"], results[storage]):
                raise SystemExit(f"{storage} and full storage disagree for {text}")

    import hnswlib
    hnsw = hnswlib.Index(space="l2", dim=base.shape[1])
    hnsw.init_index(max_elements=len(base), M=16, ef_construction=100)
    _, _, build = peers.timed(lambda: hnsw.add_items(base, num_threads=1))
    hnsw.set_num_threads(1)
    for ef in (10, 12, 16, 24, 32, 48, 64):
        hnsw.set_ef(ef)
        (ids, _), wall, cpu = peers.timed(lambda: hnsw.knn_query(queries, k=K, num_threads=1))
        r = peers.recall(ids.astype(np.int64), truth)
        lat = single_latency_us(lambda q: hnsw.knn_query(q, k=K, num_threads=1), single)
        print(f"| hnswlib M=16 ef={ef} | {r:.3f} | {len(queries) / cpu:,.0f} | {lat:.0f} | "
              f"{build:.1f} | |", flush=True)
        if r >= 0.90:
            break
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
