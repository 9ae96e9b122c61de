#!/usr/bin/python3
"""Plots pstable_study's CSV or JSON output (the report's figures, ann-benchmarks style).

Draws, for each input file (one metric each; several files share the axes):
  recall_vs_qps.png  recall@k against queries per second, every E2LSH setting and the scan
  map_vs_w.png       precision@k (the report's "mAP") against w at a fixed L, a line per k hashes
  map_vs_L.png       precision@k against L at a fixed k hashes, a line per w
  visited_vs_L.png   items visited (% of the database) against L at a fixed k hashes, a line per w
  per_class.png      precision@k of the sequential scan per query class, a bar per input file
The sequential scan is drawn as a dashed line (or a star) for reference. Only rows with the
smallest probe count are used for the last three, so multi-probe rows don't mix in.

usage: /usr/bin/python3 bench/plot_study.py STUDY.csv|STUDY.json [...] [--out docs/img]
           [--prefix NAME_] [--fixed-tables L] [--fixed-hashes K]
"""
import argparse
import csv
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

NUMERIC = ["num_tables", "num_hashes", "bucket_width", "num_probes", "k", "precision", "recall",
           "average_precision", "mean_value", "mean_visited", "visited_fraction",
           "queries_per_second", "build_seconds"]
OPTIONAL = ["cpu_queries_per_second", "tune_seconds", "min_collisions"]  # absent from older outputs


def read_study(path):
    """Rows as dicts with numeric fields converted; the metric, distractor count and per-class
    precision ({label: (name, value)}) in each row."""
    path = pathlib.Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        rows = []
        for run in data["runs"]:
            row = dict(run)
            row["metric"] = data["setup"]["metric"]
            row["k"] = data["setup"]["k"]
            row["num_distractors"] = data["setup"]["num_distractors"]
            row["classes"] = {c["label"]: (c["name"], c["precision"]) for c in run["per_class"]}
            rows.append(row)
    else:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["classes"] = {int(key[len("precision_class_"):]): (key[len("precision_class_"):],
                                                                   float(value))
                              for key, value in row.items() if key.startswith("precision_class_")}
    for row in rows:
        for key in NUMERIC + ["num_distractors"]:
            row[key] = float(row[key])
        for key in OPTIONAL:
            row[key] = float(row.get(key, 0) or 0)
        # Speed: queries per CPU second where measured (load from other programs on a shared
        # machine stretches wall time, not CPU time), else per wall-clock second.
        row["qps"] = row["cpu_queries_per_second"] or row["queries_per_second"]
    if not rows:
        raise SystemExit(f"{path} holds no rows")
    return rows


def lsh(rows):
    return [r for r in rows if r["method"] != "exact"]


def exact(rows):
    return next((r for r in rows if r["method"] == "exact"), None)


def fixed(rows, key, wanted):
    values = sorted({r[key] for r in rows})
    if not values:
        return None
    if wanted is not None:
        if wanted not in values:
            raise SystemExit(f"no row has {key} = {wanted:g}; the study has {values}")
        return wanted
    return values[0] if key == "num_hashes" else values[-1]


def plain(rows):
    """Grid E2LSH rows (not the tuned one) with the smallest probe count."""
    rows = [r for r in rows if r["method"] == "e2lsh"]
    if not rows:
        return []
    probes = min(r["num_probes"] for r in rows)
    return [r for r in rows if r["num_probes"] == probes]


def line_plot(ax, rows, x, y, group, label_fmt, scale=1.0):
    for g in sorted({r[group] for r in rows}):
        pts = sorted((r[x], r[y] * scale) for r in rows if r[group] == g)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label_fmt.format(g))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--fixed-tables", type=float, help="L for map_vs_w (default: largest)")
    parser.add_argument("--fixed-hashes", type=float,
                        help="k hashes for map_vs_L and visited_vs_L (default: smallest)")
    args = parser.parse_args()
    studies = [read_study(p) for p in args.inputs]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    k = int(studies[0][0]["k"])
    written = []

    def save(fig, name):
        path = out / f"{args.prefix}{name}"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(str(path))

    # recall@k against queries per second.
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for rows in studies:
        metric = rows[0]["metric"]
        pts = [r for r in rows if r["method"] == "e2lsh"]
        extra = f" + {rows[0]['num_distractors']:,.0f} distractors" if rows[0]["num_distractors"] else ""
        metric = metric + extra
        if pts:
            sc = ax.scatter([r["recall"] for r in pts], [r["qps"] for r in pts],
                            label=f"E2LSH ({metric})", alpha=0.8)
            front, best = [], 0.0  # Pareto front: the fastest setting at each recall
            for r in sorted(pts, key=lambda r: -r["recall"]):
                if r["qps"] > best:
                    best = r["qps"]
                    front.append(r)
            ax.plot([r["recall"] for r in front], [r["qps"] for r in front],
                    color=sc.get_facecolor()[0], alpha=0.6)
        for t in (r for r in rows if r["method"] == "e2lsh_tuned"):
            ax.scatter([t["recall"]], [t["qps"]], marker="D", s=60, edgecolors="black",
                       label=f"E2LSH tuned ({metric})")
        e = exact(rows)
        if e:
            ax.scatter([e["recall"]], [e["qps"]], marker="*", s=160,
                       label=f"sequential scan ({metric})")
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{k}")
    ax.set_ylabel("queries per CPU second (log)")
    ax.set_title(f"Recall@{k} against speed")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, "recall_vs_qps.png")

    for rows in studies:
        metric = rows[0]["metric"]
        pts = plain(rows)
        e = exact(rows)
        if not pts:
            print(f"{metric}: no E2LSH rows; only recall_vs_qps drawn", file=sys.stderr)
            continue
        tag = f"_{metric}" if len(studies) > 1 else ""

        L = fixed(pts, "num_tables", args.fixed_tables)
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        line_plot(ax, [r for r in pts if r["num_tables"] == L], "bucket_width", "precision",
                  "num_hashes", "k = {:g} hashes")
        if e:
            ax.axhline(e["precision"], ls="--", color="gray", label="sequential scan")
        ax.set_xlabel("bucket width w")
        ax.set_ylabel(f"P@{k} (the report's mAP)")
        ax.set_title(f"mAP against w, L = {L:g} ({metric})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, f"map_vs_w{tag}.png")

        K = fixed(pts, "num_hashes", args.fixed_hashes)
        at_k = [r for r in pts if r["num_hashes"] == K]
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        line_plot(ax, at_k, "num_tables", "precision", "bucket_width", "w = {:g}")
        if e:
            ax.axhline(e["precision"], ls="--", color="gray", label="sequential scan")
        ax.set_xlabel("tables L")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"P@{k} (the report's mAP)")
        ax.set_title(f"mAP against L, k = {K:g} hashes ({metric})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, f"map_vs_L{tag}.png")

        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        line_plot(ax, at_k, "num_tables", "visited_fraction", "bucket_width", "w = {:g}", 100.0)
        ax.set_xlabel("tables L")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("items visited per query (% of the database)")
        ax.set_title(f"Items visited against L, k = {K:g} hashes ({metric})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, f"visited_vs_L{tag}.png")

    # Per-class precision of the sequential scan, one bar per input file.
    scans = [(rows[0]["metric"], exact(rows)) for rows in studies if exact(rows)]
    if scans:
        labels = sorted(scans[0][1]["classes"])
        names = [scans[0][1]["classes"][c][0] for c in labels]
        fig, ax = plt.subplots(figsize=(9, 4.4))
        width = 0.8 / len(scans)
        for i, (metric, e) in enumerate(scans):
            extra = f" + {e['num_distractors']:,.0f} distractors" if e["num_distractors"] else ""
            ax.bar([j + i * width for j in range(len(labels))],
                   [e["classes"].get(c, ("", 0.0))[1] for c in labels], width,
                   label=f"{metric}{extra}: {e['precision']:.3f}")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))])
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_ylabel(f"P@{k} (the report's mAP)")
        ax.set_ylim(0, 1.22)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_title(f"Sequential scan: P@{k} per query class (legend: all classes)")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", ncol=2)
        save(fig, "per_class.png")

    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
