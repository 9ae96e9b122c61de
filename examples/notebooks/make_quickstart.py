#!/usr/bin/env python3
"""Writes quickstart.ipynb from the cells below (edit here, then run this script).

The script writes it without outputs; the committed copy is executed (scripts/run_notebook.py
NOTEBOOK --output NOTEBOOK). CI executes it again with scripts/run_notebook.py.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell("""# pstable quick start: Fashion-MNIST

Exact k-nearest-neighbour search from numpy with `pstable`, Euclidean distance vs cosine
similarity, scored the way the original report did: **precision@10 by class** (a result is
relevant when it has the query's class; the report called the mean "mAP").

Install: `pip install ./python` from a pstable checkout (see `docs/python.md`)."""),
    new_code_cell("""import gzip
import time
from pathlib import Path

import numpy as np
import pstable

print("pstable", pstable.__version__, "- SIMD core:", pstable.simd_arch(),
      "- available:", pstable.available_simd())"""),
    new_markdown_cell("""## Load Fashion-MNIST

A tiny reader for the IDX files (big-endian header: magic, then one 32-bit size per dimension).
Pixels become float32 in [0, 1]; each image is a 784-d row."""),
    new_code_cell("""DATA = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)

train = read_idx(DATA / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
train_labels = read_idx(DATA / "train-labels-idx1-ubyte.gz")
test = read_idx(DATA / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
test_labels = read_idx(DATA / "t10k-labels-idx1-ubyte.gz")

NUM_QUERIES = 1000  # the first 1,000 test images: about 100 per class
queries, query_labels = test[:NUM_QUERIES], test_labels[:NUM_QUERIES]
print("database", train.shape, train.dtype, "- queries", queries.shape)"""),
    new_markdown_cell("""## Exact search: Euclidean vs cosine

`ExactIndex.borrow` searches the numpy array in place (no copy; the index keeps a reference).
`search` returns `(ids, distances)`: for cosine the "distances" are similarities (larger is
better). `return_counts=True` adds the number of distance computations per query."""),
    new_code_cell("""K = 10
results = {}
for metric in ["euclidean", "cosine"]:
    index = pstable.ExactIndex.borrow(train, metric=metric)
    start = time.perf_counter()
    ids, dist, visited = index.search(queries, K, num_threads=0, return_counts=True)
    seconds = time.perf_counter() - start
    results[metric] = (ids, dist, visited)
    print(f"{index!r}: {NUM_QUERIES} queries in {seconds:.2f} s "
          f"({NUM_QUERIES / seconds:,.0f} queries/s), visited {visited.mean():,.0f} per query")"""),
    new_markdown_cell("""## Precision@10 by class

For each query: the fraction of its 10 results with the query's class; averaged per class and
overall (the report's table)."""),
    new_code_cell("""from IPython.display import Markdown

def precision_at_k(ids):
    return (train_labels[ids] == query_labels[:, None]).mean(axis=1)

precision = {m: precision_at_k(results[m][0]) for m in results}
rows = ["| class | queries | Euclidean P@10 | cosine P@10 |", "|---|---:|---:|---:|"]
for c, name in enumerate(CLASSES):
    mask = query_labels == c
    rows.append(f"| {name} | {mask.sum()} | {precision['euclidean'][mask].mean():.3f} "
                f"| {precision['cosine'][mask].mean():.3f} |")
rows.append(f"| **all** | {NUM_QUERIES} | **{precision['euclidean'].mean():.3f}** "
            f"| **{precision['cosine'].mean():.3f}** |")
mean_dist = results["euclidean"][1].mean()
mean_sim = results["cosine"][1].mean()
Markdown("\\n".join(rows) + f"\\n\\nMean Euclidean distance of the results: {mean_dist:.3f}; "
         f"mean cosine similarity: {mean_sim:.3f}.")"""),
    new_code_cell("""# Sanity check against numpy: the first 50 queries, Euclidean, brute force.
sq = (queries[:50] ** 2).sum(1)[:, None] - 2 * queries[:50] @ train.T + (train ** 2).sum(1)[None, :]
expected = np.argsort(sq, axis=1, kind="stable")[:, :K]
agree = (np.sort(expected, 1) == np.sort(results["euclidean"][0][:50], 1)).mean()
print(f"ids agreeing with numpy's brute force: {agree:.1%} "
      "(float32 rounding may swap near-ties)")
assert agree > 0.99"""),
    new_markdown_cell("## Plots: precision by class, and one query with its neighbours"),
    new_code_cell("""%matplotlib inline
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(9, 3.5))
x = np.arange(len(CLASSES))
for offset, metric in [(-0.2, "euclidean"), (0.2, "cosine")]:
    per_class = [precision[metric][query_labels == c].mean() for c in range(len(CLASSES))]
    ax.bar(x + offset, per_class, width=0.4, label=metric)
ax.set_xticks(x, CLASSES, rotation=30, ha="right")
ax.set_ylabel("precision@10")
ax.set_ylim(0, 1)
ax.legend()
ax.set_title("Exact search on Fashion-MNIST, by query class")
plt.tight_layout()
plt.show()

q = 0
fig, axes = plt.subplots(1, K + 1, figsize=(12, 1.6))
axes[0].imshow(queries[q].reshape(28, 28), cmap="gray_r")
axes[0].set_title("query", fontsize=8)
for j, (i, s) in enumerate(zip(results["cosine"][0][q], results["cosine"][1][q]), start=1):
    axes[j].imshow(train[i].reshape(28, 28), cmap="gray_r")
    axes[j].set_title(f"{s:.3f}", fontsize=8)
for a in axes:
    a.axis("off")
plt.show()"""),
    new_markdown_cell("""## E2LSH (when this pstable build has it)

`pstable.E2LSHIndex` hashes with L tables of k Gaussian projections; only the points in the
query's buckets are compared. Recall@10 against the exact results, and the points visited."""),
    new_code_cell("""if hasattr(pstable, "E2LSHIndex"):
    exact_ids = results["euclidean"][0]
    print("| L | k | w | recall@10 | visited/query | P@10 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for L, k, w in [(5, 4, 4.0), (10, 6, 4.0), (10, 8, 6.0)]:
        lsh = pstable.E2LSHIndex(784, metric="euclidean", num_tables=L, num_hashes=k,
                                 bucket_width=w)
        lsh.add(train)
        ids, dist, visited = lsh.search(queries, K, num_threads=0, return_counts=True)
        found = [len(set(a) & set(b)) for a, b in zip(ids.tolist(), exact_ids.tolist())]
        p = (train_labels[np.where(ids >= 0, ids, 0)] == query_labels[:, None]) & (ids >= 0)
        print(f"| {L} | {k} | {w} | {np.mean(found) / K:.3f} | {visited.mean():,.0f} "
              f"| {p.mean():.3f} |")
else:
    print("this pstable build has no E2LSHIndex yet")"""),
]

nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
Path(__file__).with_name("quickstart.ipynb").write_text(nbformat.writes(nb))
