#!/usr/bin/python3
"""The report's comparison on Fashion-MNIST: exact scan vs E2LSH, Euclidean vs cosine, for each
feature set (raw pixels, CNN features): precision@10 by label (the report's "mAP"), recall@10 of
E2LSH against the exact scan, items visited per query and time per query.

Usage: /usr/bin/python3 examples/features/compare.py [--features pixels cnn] [--queries 2000]
           [--tables 10 --hashes 8 --width-factor 4] [--backend pstable]
Feature sets are folders under build/features (examples/features/pixels.py, train_cnn.py).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "web_search"))
import fmnist  # noqa: E402
import pstable_adapter as adapter  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", nargs="+", default=["pixels", "cnn"],
                        help="feature set names under build/features, or folders")
    parser.add_argument("--queries", type=int, default=2000, help="first N test images as queries")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--tables", type=int, default=10)
    parser.add_argument("--hashes", type=int, default=8)
    parser.add_argument("--width-factor", type=float, default=4.0,
                        help="w = factor x median distance to the 10th neighbour")
    parser.add_argument("--probes", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="search threads")
    parser.add_argument("--backend", default=adapter.DEFAULT_BACKEND)
    args = parser.parse_args(argv)
    backend = adapter.get_backend(args.backend)

    rows = []
    for name in args.features:
        folder = Path(name) if Path(name).is_dir() else fmnist.FEATURES_ROOT / name
        base, base_labels, query, query_labels = fmnist.load_features(folder)
        query, query_labels = query[:args.queries], query_labels[:args.queries]
        for metric in adapter.METRICS:
            exact_ids = None
            for kind in adapter.KINDS:
                settings = adapter.E2LSHSettings(args.tables, args.hashes, None, args.width_factor, args.probes)
                index = adapter.build_index(backend, kind, metric, base, settings)
                start = time.perf_counter()
                results = index.search(query, args.k, num_threads=args.threads)
                seconds = time.perf_counter() - start
                ids = np.stack([np.pad(r.ids, (0, args.k - len(r.ids)), constant_values=-1) for r in results])
                found = ids >= 0
                precision = ((base_labels[np.where(found, ids, 0)] == query_labels[:, None]) & found).sum(1) / args.k
                visited = np.array([r.visited for r in results], dtype=np.float64)
                if kind == "exact":
                    exact_ids = ids
                recall = np.mean([len(set(a[a >= 0]) & set(b)) / args.k for a, b in zip(ids, exact_ids)])
                rows.append((f"{name} ({base.shape[1]}-d)", index.describe().split(", ")[0], metric,
                             precision.mean(), recall, visited.mean(), visited.mean() / len(base),
                             1000 * seconds / len(query), index.build_seconds))
                print(f"{rows[-1][0]} {rows[-1][1]} {metric}: precision@{args.k} {precision.mean():.3f}, "
                      f"visited {visited.mean():.0f}", file=sys.stderr, flush=True)

    print(f"\n{args.queries} queries (first test images), {len(base)} database images, k = {args.k}, "
          f"backend {args.backend}, {args.threads} search thread(s)\n")
    print(f"| features | search | metric | precision@{args.k} (\"mAP\") | recall@{args.k} vs exact "
          "| items visited per query | ms per query | build s |")
    print("|---|---|---|---|---|---|---|---|")
    for feat, search, metric, p, r, v, vf, ms, build in rows:
        print(f"| {feat} | {search} | {metric} | {p:.3f} | {r:.3f} | {v:,.0f} ({100 * vf:.1f}%) | {ms:.3f} | {build:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
