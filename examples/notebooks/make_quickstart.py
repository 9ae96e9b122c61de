#!/usr/bin/env python3
"""Writes quickstart.ipynb from the cells below (edit here, then run this script).

The script writes it without outputs; the committed copy is executed (scripts/run_notebook.py
NOTEBOOK --output NOTEBOOK). CI executes it again with scripts/run_notebook.py.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell("""# pstable quick start: Fashion-MNIST, exact search vs E2LSH

Exact and E2LSH (p-stable LSH) k-nearest-neighbour search from numpy with `pstable`, scored the
way the original report did: **precision@10 overall and by class** (a result is relevant when it
has the query's class; the report called the mean "mAP"), mean distance, items visited per query
and queries per second. Data is read and scored with pstable's own readers and evaluator.

Install: `pip install ./python` from a pstable checkout (see `docs/python.md`)."""),
    new_code_cell("""import time
from pathlib import Path

import numpy as np
import pstable

print("pstable", pstable.__version__, "- SIMD core:", pstable.simd_arch(),
      "- available:", pstable.available_simd())"""),
    new_markdown_cell("""## Load Fashion-MNIST

`pstable.read_idx_images` reads the gzip'd IDX files into float32 rows in [0, 1] (784 values per
image); `pstable.read_idx_labels` the labels."""),
    new_code_cell("""DATA = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

train = pstable.read_idx_images(DATA / "train-images-idx3-ubyte.gz")
train_labels = pstable.read_idx_labels(DATA / "train-labels-idx1-ubyte.gz")
test = pstable.read_idx_images(DATA / "t10k-images-idx3-ubyte.gz")
test_labels = pstable.read_idx_labels(DATA / "t10k-labels-idx1-ubyte.gz")

NUM_QUERIES = 1000  # the first 1,000 test images: about 100 per class
queries, query_labels = test[:NUM_QUERIES], test_labels[:NUM_QUERIES]
print("database", train.shape, train.dtype, "- queries", queries.shape)"""),
    new_markdown_cell("""## Exact search (the ground truth)

`ExactIndex.borrow` searches the numpy array in place (no copy). `search` returns
`(ids, distances)`; `return_counts=True` adds the distance computations per query."""),
    new_code_cell("""K = 10
THREADS = 0  # every hardware thread

def timed_search(index, **kwargs):
    start = time.perf_counter()
    result = index.search(queries, K, num_threads=THREADS, return_counts=True, **kwargs)
    return result, time.perf_counter() - start

exact = pstable.ExactIndex.borrow(train, metric="euclidean")
truth, exact_seconds = timed_search(exact)
print(f"{exact!r}: {NUM_QUERIES / exact_seconds:,.0f} queries/s")"""),
    new_markdown_cell("""## E2LSH, tuned

`pstable.tune` holds out sample queries, measures recall and candidates for many (k, w, L,
probes) settings on a 20,000-point sample and picks the cheapest reaching the target recall@10.
`result.make_index()` (or `E2LSHIndex(dim, **result.params)`) builds an index with it."""),
    new_code_cell("""start = time.perf_counter()
tuned = pstable.tune(train, k=K, target_recall=0.9, max_points=20000, num_queries=200,
                     max_tables=16, hash_counts=[8, 12], probe_counts=[0, 12, 60])
print(f"tuned in {time.perf_counter() - start:.1f} s: {tuned.params}")
print(f"on the sample: recall {tuned.recall:.3f}, visited {tuned.visited_fraction:.1%}")

lsh = tuned.make_index()
start = time.perf_counter()
lsh.add(train)
print(f"{lsh!r} built in {time.perf_counter() - start:.1f} s, "
      f"{lsh.memory_bytes / 2**20:.0f} MiB")
approx, lsh_seconds = timed_search(lsh)"""),
    new_markdown_cell("""## The report's table

`pstable.evaluate` scores a search against the exact result: precision@10 by label (overall and
per class), recall@10, mean distance, visited items and queries per second."""),
    new_code_cell("""from IPython.display import Markdown

scores = {
    "exact": pstable.evaluate(truth, truth, query_labels, train_labels, exact_seconds),
    "E2LSH (tuned)": pstable.evaluate(approx, truth, query_labels, train_labels, lsh_seconds),
}
names = list(scores)
rows = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
for c, name in enumerate(CLASSES):
    rows.append(f"| P@10 {name} | " +
                " | ".join(f"{scores[n]['precision_per_class'][c]:.3f}" for n in names) + " |")
for label, key, fmt in [("**P@10 (report's mAP)**", "precision", "**{:.3f}**"),
                        ("recall@10", "recall", "{:.3f}"),
                        ("mAP@10 (standard)", "average_precision", "{:.3f}"),
                        ("mean distance", "mean_value", "{:.3f}"),
                        ("visited / query", "mean_visited", "{:,.0f}"),
                        ("visited fraction", "visited_fraction", "{:.2%}"),
                        ("queries / s", "queries_per_second", "{:,.0f}")]:
    rows.append(f"| {label} | " + " | ".join(fmt.format(scores[n][key]) for n in names) + " |")
Markdown("\\n".join(rows))"""),
    new_markdown_cell("""## Results know their metric

A search returns a `pstable.Result`: it unpacks as `(ids, distances)` and also records the metric
and the counts, so the evaluator needs no `metric=` and refuses to compare results of different
metrics (a cosine search scored against Euclidean ground truth would give a wrong figure
silently)."""),
    new_code_cell("""print(approx.metric, approx.ids.shape, approx.visited[:3])
print("recall@10:", round(pstable.recall_at_k(approx, truth), 3))

cosine = pstable.ExactIndex.borrow(train, metric="cosine").search(queries, K, num_threads=THREADS)
try:
    pstable.recall_at_k(cosine, truth)
except ValueError as e:
    print("refused:", e)"""),
    new_markdown_cell("""## Recall vs items visited

Multi-probe trades more buckets per table for fewer tables; `num_probes` is changed on the
same index without rebuilding it. Plain E2LSH (no probes) with the same k and w, one index per L, is the peer."""),
    new_code_cell("""%matplotlib inline
import matplotlib.pyplot as plt

def point(index, **kwargs):
    result, seconds = timed_search(index, **kwargs)
    return (result[2].mean() / len(train), pstable.recall_at_k(result, truth),
            NUM_QUERIES / seconds)

probe_curve = []
for probes in [0, 4, 12, 30, 60, 120]:
    lsh.num_probes = probes
    probe_curve.append((probes, *point(lsh)))
lsh.num_probes = tuned.params["num_probes"]

table_curve = []
for tables in [4, 8, 16, 32]:
    sub = pstable.E2LSHIndex(784, num_tables=tables, num_hashes=tuned.params["num_hashes"],
                             bucket_width=tuned.params["bucket_width"])
    sub.add(train)
    table_curve.append((tables, *point(sub)))

fig, ax = plt.subplots(figsize=(7, 4))
for curve, label, tag in [(probe_curve, f"L = {lsh.params['num_tables']}, probes", "p"),
                          (table_curve, "no probes, L", "L")]:
    xs, ys = [c[1] for c in curve], [c[2] for c in curve]
    ax.plot(xs, ys, "o-", label=label)
    for c in curve:
        ax.annotate(f"{tag}={c[0]}", (c[1], c[2]), fontsize=7, xytext=(3, -9),
                    textcoords="offset points")
ax.set_xscale("log")
ax.set_xlabel("fraction of the database visited per query")
ax.set_ylabel("recall@10")
ax.set_ylim(0, 1.02)
ax.grid(alpha=0.3)
ax.legend()
ax.set_title("E2LSH on Fashion-MNIST (60,000 x 784, Euclidean)")
plt.tight_layout()
plt.show()
print("| setting | visited | recall@10 | queries/s |\\n|---|---:|---:|---:|")
for c in probe_curve:
    print(f"| probes={c[0]} | {c[1]:.2%} | {c[2]:.3f} | {c[3]:,.0f} |")
for c in table_curve:
    print(f"| L={c[0]} | {c[1]:.2%} | {c[2]:.3f} | {c[3]:,.0f} |")"""),
    new_markdown_cell("""## Filters and removal

`search(..., filter=...)` takes a boolean mask over ids, an array of allowed ids, or a callable
called once with all ids: here, only sneakers and ankle boots. `remove` hides ids at once."""),
    new_code_cell("""shoes = np.isin(train_labels, [7, 9])  # a boolean mask over ids
ids, dist = lsh.search(queries[:5], 5, filter=shoes)
print("labels of the filtered results:", train_labels[ids[ids >= 0]].tolist())

lsh.remove(ids[0, :2])
again, _ = lsh.search(queries[:1], 5, filter=shoes)
print("after removing", ids[0, :2].tolist(), "->", again[0].tolist(),
      f"(size {lsh.size}, removed {lsh.num_removed})")"""),
    new_markdown_cell("""## A scikit-learn pipeline

`pstable.sklearn.KNeighborsTransformer` turns rows into a sparse k-NN graph that scikit-learn's
estimators take with `metric="precomputed"`: here a k-NN classifier on 10,000 training images,
its neighbours found by pstable."""),
    new_code_cell("""from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from pstable.sklearn import KNeighborsTransformer

pipe = make_pipeline(KNeighborsTransformer(n_neighbors=K, mode="distance"),
                     KNeighborsClassifier(n_neighbors=K, metric="precomputed"))
pipe.fit(train[:10000], train_labels[:10000])
accuracy = (pipe.predict(queries) == query_labels).mean()
print(f"k-NN classifier accuracy on {NUM_QUERIES} test images: {accuracy:.3f}")"""),
    new_markdown_cell("## One query and its E2LSH neighbours"),
    new_code_cell("""q = 0
ids, dist = lsh.search(queries[q], K)
fig, axes = plt.subplots(1, K + 1, figsize=(12, 1.6))
axes[0].imshow(queries[q].reshape(28, 28), cmap="gray_r")
axes[0].set_title(CLASSES[query_labels[q]], fontsize=7)
for j, (i, d) in enumerate(zip(ids, dist), start=1):
    axes[j].imshow(train[i].reshape(28, 28), cmap="gray_r")
    axes[j].set_title(f"{d:.2f}", fontsize=8)
for a in axes:
    a.axis("off")
plt.show()"""),
]

nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
Path(__file__).with_name("quickstart.ipynb").write_text(nbformat.writes(nb))
