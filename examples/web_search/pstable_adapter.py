"""The one place where the examples touch pstable's Python API (branch python).

Everything else (the web app, examples/features/compare.py) calls `build_index`, `load_or_build`
and `SearchIndex.search`, so a rename in the binding is a one-line fix here. The backend is the
`pstable` module by default; tests may pass another module with the same API (their numpy
stand-in) by name.

Cosine indexes receive unit-normalised rows and queries. Cosine similarity is unchanged by that,
and E2LSH then hashes points on the unit sphere whatever the binding does internally, so one
bucket width rule (below) fits both metrics and any feature scale.
"""
import hashlib
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_BACKEND = "pstable"
KINDS = ("exact", "e2lsh")
METRICS = ("euclidean", "cosine")


def get_backend(name=DEFAULT_BACKEND):
    """Imports the module that provides ExactIndex, E2LSHIndex and load."""
    return importlib.import_module(name)


@dataclass
class E2LSHSettings:
    """E2LSH parameters. bucket_width=None picks w = width_factor x the median distance from a
    sample of points to their 10th nearest neighbour (w ~ 4 x that works on pixels)."""
    num_tables: int = 10
    num_hashes: int = 8
    bucket_width: float = None
    width_factor: float = 4.0
    num_probes: int = 0
    seed: int = 1

    def resolved(self, vectors):
        if self.bucket_width is not None:
            return self
        w = self.width_factor * typical_neighbour_distance(vectors)
        return E2LSHSettings(self.num_tables, self.num_hashes, float(f"{w:.4g}"), self.width_factor,
                             self.num_probes, self.seed)


@dataclass
class Result:
    """One query's answer: ids best first, Euclidean distances or cosine similarities, the
    number of distance computations, and the wall time of the search call."""
    ids: np.ndarray
    scores: np.ndarray
    visited: int
    seconds: float


def prepare(vectors, metric):
    """float32, C-contiguous, unit rows for cosine (zero rows stay zero)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.ascontiguousarray(x / np.where(norms > 0, norms, 1), dtype=np.float32)
    return x


def typical_neighbour_distance(vectors, sample=200, k=10, seed=0):
    """Median over a sample of the distance to the k-th nearest other point."""
    rng = np.random.default_rng(seed)
    x = np.asarray(vectors, dtype=np.float32)
    pick = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    q = x[pick]
    d2 = (q * q).sum(1)[:, None] - 2 * q @ x.T + (x * x).sum(1)[None, :]
    d2[np.arange(len(pick)), pick] = np.inf  # not itself
    kth = np.partition(d2, min(k, x.shape[0] - 1) - 1, axis=1)[:, min(k, x.shape[0] - 1) - 1]
    return float(np.sqrt(np.maximum(np.median(kth), 0)))


@dataclass
class SearchIndex:
    """A built index of one kind ("exact" or "e2lsh") and metric ("euclidean" or "cosine")."""
    kind: str
    metric: str
    index: object
    size: int
    settings: E2LSHSettings = None
    build_seconds: float = 0.0
    loaded_from: str = None
    extra: dict = field(default_factory=dict)

    def search(self, queries, k, num_threads=1):
        q = prepare(np.atleast_2d(queries), self.metric)
        start = time.perf_counter()
        ids, scores, visited = self.index.search(q, int(k), num_threads=num_threads, return_counts=True)
        seconds = time.perf_counter() - start
        return [Result(np.asarray(ids[i]), np.asarray(scores[i]), int(np.asarray(visited)[i]), seconds / len(q))
                for i in range(len(q))]

    def describe(self):
        if self.kind == "exact":
            return f"exact scan, {self.metric}"
        s = self.settings
        text = f"E2LSH L={s.num_tables} k={s.num_hashes} w={s.bucket_width:g}"
        return text + (f" probes={s.num_probes}" if s.num_probes else "") + f", {self.metric}"


def _new_index(backend, kind, metric, dim, settings):
    if kind == "exact":
        return backend.ExactIndex(dim, metric=metric, dtype="float32")
    return backend.E2LSHIndex(dim, metric=metric, dtype="float32", num_tables=settings.num_tables,
                              num_hashes=settings.num_hashes, bucket_width=settings.bucket_width,
                              num_probes=settings.num_probes, seed=settings.seed)


def build_index(backend, kind, metric, vectors, settings=None, progress=None, chunk=10000):
    """Builds an index over `vectors` (rows are points, ids are row numbers). `progress(done,
    total)` is called after every chunk of rows added."""
    if kind not in KINDS or metric not in METRICS:
        raise ValueError(f"unknown index {kind!r}/{metric!r}; kinds {KINDS}, metrics {METRICS}")
    x = prepare(vectors, metric)
    settings = (settings or E2LSHSettings()).resolved(x) if kind == "e2lsh" else None
    start = time.perf_counter()
    index = _new_index(backend, kind, metric, x.shape[1], settings)
    for lo in range(0, len(x), chunk):
        index.add(x[lo:lo + chunk])
        if progress:
            progress(min(lo + chunk, len(x)), len(x))
    return SearchIndex(kind, metric, index, len(x), settings, time.perf_counter() - start)


def cache_name(tag, kind, metric, vectors, settings):
    """A file name that changes whenever the data or the parameters change."""
    x = np.ascontiguousarray(vectors)
    digest = hashlib.sha1(x.shape.__repr__().encode())
    digest.update(x[:: max(1, len(x) // 512)].tobytes())
    s = settings
    params = f"L{s.num_tables}-k{s.num_hashes}-w{s.bucket_width:g}-p{s.num_probes}-s{s.seed}" if s else "scan"
    return f"{tag}-{len(x)}x{x.shape[1]}-{digest.hexdigest()[:10]}-{kind}-{metric}-{params}.pstable"


def load_or_build(backend, kind, metric, vectors, settings=None, cache_dir=None, tag="data",
                  progress=None):
    """E2LSH indexes are saved to `cache_dir` after building and loaded from there next time.
    Exact indexes are just the vectors, so they are rebuilt (a copy) each time."""
    if kind == "e2lsh":
        settings = (settings or E2LSHSettings()).resolved(prepare(vectors, metric))
    if kind != "e2lsh" or cache_dir is None:
        return build_index(backend, kind, metric, vectors, settings, progress)
    path = Path(cache_dir) / cache_name(tag, kind, metric, vectors, settings)
    if path.is_file():
        start = time.perf_counter()
        try:
            index = backend.load(str(path))
            return SearchIndex(kind, metric, index, len(vectors), settings,
                               time.perf_counter() - start, loaded_from=str(path))
        except Exception as error:  # a stale or foreign file: rebuild and overwrite it
            print(f"cache: cannot load {path} ({error}); rebuilding", flush=True)
    built = build_index(backend, kind, metric, vectors, settings, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        built.index.save(str(path))
    except Exception as error:  # e.g. a full or read-only disk: serve without a cache
        print(f"cache: cannot save {path} ({error}); the index is rebuilt next time", flush=True)
    return built


