"""pstable.tune: chooses E2LSH parameters for a data set (binding of C++ tune_e2lsh)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional, Sequence, TextIO, Union

import numpy as np
import numpy.typing as npt

from . import _checks
from ._index import DType, E2LSHIndex, Metric, Storage, _as_rows, _core, _dtype_name, _storage_name


@dataclass
class TuneResult:
    """What `tune` chose and what an index with it measured on held-out sample queries.

    `params` holds exactly the E2LSHIndex keywords: `E2LSHIndex(dim, metric=r.metric,
    dtype=r.dtype, **r.params)`, or simply `r.make_index()`.

    Attributes
    ----------
    params : dict
        num_tables, num_hashes, bucket_width, num_probes, seed and min_collisions.
    recall : float
        recall@k on the held-out queries.
    mean_visited : float
        Distinct candidates (distance computations) per query.
    visited_fraction : float
        mean_visited / indexed_points.
    queries_per_second : float
        One thread, same run (scaled to the machine's speed at the tuner's first timing; see
        `shortlist`).
    exact_queries_per_second : float
        The exact scan over the same sample, one thread.
    scan_is_faster : bool
        True: the exact scan was at least as fast as the chosen setting.
    typical_distance : float
        Median distance to the k-th neighbour.
    reached_target : bool
        False: params is the best recall found.
    indexed_points : int
        Points of the tuning index.
    dim, metric, dtype, k : int, str, str, int
        The data's dimension, the metric, dtype and k tuned for.
    trials : list of dict
        Every measured configuration: params, recall, mean_visited, mean_probed, mean_entries,
        estimated_us and measured_qps.
    unit_costs_us : dict
        The unit costs used, in microseconds (timed unless given): distance, lookup, hash and
        entry.
    storage : str
        The candidate storage the figures were measured with ("full", "sq8" or "sq4"): the one
        `tune` was given, or when it chose the storage the fastest; `make_index` builds it.
    storage_timings : dict
        With ``storage="auto"`` or ``choose_storage=True``: queries/second of the chosen setting
        with each storage that can hold the data (one thread, the sample queries, the best of 3
        alternating rounds), the tuning storage first; empty otherwise.
    """

    params: dict[str, Any]
    recall: float              #: recall@k on the held-out queries
    mean_visited: float        #: distinct candidates (distance computations) per query
    visited_fraction: float    #: mean_visited / indexed_points
    queries_per_second: float  #: one thread, same run
    exact_queries_per_second: float  #: the exact scan over the same sample, one thread
    scan_is_faster: bool       #: True: the exact scan was at least as fast as the chosen setting
    typical_distance: float    #: median distance to the k-th neighbour
    reached_target: bool       #: False: params is the best recall found
    indexed_points: int
    dim: int
    metric: str
    dtype: str
    k: int
    trials: list[dict[str, Any]] = field(default_factory=list, repr=False)
    unit_costs_us: dict[str, float] = field(default_factory=dict, repr=False)
    storage: Storage = "full"
    storage_timings: dict[str, float] = field(default_factory=dict)

    def make_index(self) -> E2LSHIndex:
        """An empty E2LSHIndex with the chosen parameters, metric, dtype and storage.

        Returns
        -------
        E2LSHIndex
            ``E2LSHIndex(dim, metric=metric, dtype=dtype, storage=storage, **params)``.
        """
        return E2LSHIndex(self.dim, metric=self.metric, dtype=self.dtype,  # type: ignore[arg-type]
                          storage=self.storage, **self.params)


#: `progress=` of tune: None (a bar when stderr is a terminal or a notebook), a bool, or a
#: callable progress(done, total, stage).
ProgressLike = Union[None, bool, Callable[[int, int, str], Any]]


class _ProgressBar:
    """A one-line text progress bar, redrawn in place with a carriage return."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width

    def __call__(self, done: int, total: int, stage: str) -> None:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\rpstable.tune [{bar}] {done}/{total} {stage:<12}{end}")
        self.stream.flush()


def _progress_callback(progress: ProgressLike) -> Optional[Callable[[int, int, str], Any]]:
    if progress is None:  # auto: a terminal or a Jupyter kernel, never a pipe or a log file
        stream = sys.stderr
        interactive = getattr(stream, "isatty", lambda: False)() or "ipykernel" in sys.modules
        return _ProgressBar(stream) if interactive else None
    if progress is True:
        return _ProgressBar(sys.stderr)
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise TypeError(f"progress must be None, a bool or a callable, got {type(progress).__name__}")


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def tune(
    data: npt.ArrayLike, k: int = 10, target_recall: float = 0.9, metric: Metric = "euclidean",
    dtype: Optional[DType] = None, *, recall_margin: float = 0.01, num_queries: int = 1000,
    max_points: int = 0, max_tables: int = 32, hash_counts: Sequence[int] = (8, 12, 16),
    table_collision: Sequence[float] = (0.01, 0.02, 0.05, 0.12),
    probe_counts: Sequence[int] = (0, 4, 12, 30, 60, 120),
    collision_thresholds: Sequence[int] = (1, 2, 3, 4), seed: int = 1,
    distance_us: float = 0.0, lookup_us: float = 0.0, hash_us: float = 0.0, entry_us: float = 0.0,
    cost_tolerance: float = 0.1, shortlist: int = 4, queries: Optional[npt.ArrayLike] = None,
    progress: ProgressLike = None, storage: Union[Storage, Literal["auto"]] = "full",
    choose_storage: bool = False,
) -> TuneResult:
    """Chooses E2LSH parameters reaching `target_recall` at recall@k on `data` at least cost.

    Parameters
    ----------
    data : array_like, shape (n, dim)
        The points to tune for; at least 5 (k + 1) rows.
    k : int, default 10
        Neighbours per query the index must find, at least 1.
    target_recall : float, default 0.9
        recall@k to reach on the held-out queries, in (0, 1].
    metric : str, default "euclidean"
        "euclidean", "cosine" or "manhattan" (E2LSH has no hash family for "ip").
    dtype : {"float32", "float64"}, numpy dtype or None, default None
        Defaults to data's own (float32 or float64; other dtypes become float32).
    recall_margin : float, default 0.01, keyword-only
        Accept a setting at target_recall + this; in [0, 1).
    num_queries : int, default 1000, keyword-only
        Rows of `data` held out as queries (fewer for small data), or the first `num_queries`
        rows of `queries` when given; at least 1.
    max_points : int, default 0, keyword-only
        > 0: tune on a random sample of this many rows; 0 uses all.
    max_tables : int, default 32, keyword-only
        Largest L tried, in [1, 4096].
    hash_counts : sequence of int, default (8, 12, 16), keyword-only
        num_hashes (k, hashes per table) tried, each in [1, 32].
    table_collision : sequence of float, default (0.01, 0.02, 0.05, 0.12), keyword-only
        Table collision probabilities p(r)^k tried, each in (0, 1): each sets a bucket width.
    probe_counts : sequence of int, default (0, 4, 12, 30, 60, 120), keyword-only
        Probes per table tried, each in [0, 2**20].
    collision_thresholds : sequence of int, default (1, 2, 3, 4), keyword-only
        min_collisions tried, each in [1, max_tables].
    seed : int, default 1, keyword-only
        Seed of the sample and of the projections.
    distance_us, lookup_us, hash_us, entry_us : float, default 0.0, keyword-only
        Unit costs in microseconds of a distance, a bucket lookup, one hash function and a bucket
        entry; 0 = timed on this machine. Fix all four > 0 to make the choice reproducible.
    cost_tolerance : float, default 0.1, keyword-only
        Settings this close to the cheapest tie, and the one computing the fewest distances
        wins; in [0, 10].
    shortlist : int, default 4, keyword-only
        The settings the model ranks cheapest that are built as real indexes and timed, in
        [0, 64] (then up to 3 more, the cheapest under the model refit to those timings);
        0 = the model's choice alone. Each is timed beside a re-timing of the first, and its
        time scaled to the machine's speed at the first timing, so a drifting machine speed
        does not reorder them.
    queries : array_like, shape (m, dim), optional, keyword-only
        Real queries, searched against all of `data`: pass them when the data holds
        near-duplicates, whose held-out rows find their twins.
    progress : None, bool or callable, default None, keyword-only
        None (the default) draws a text progress bar on stderr when it is a terminal or the
        code runs in a Jupyter kernel, nothing otherwise; True or False force it on or off; a
        callable is called as progress(done, total, stage) before the first step and after each
        (stage: "ground truth", "model", "timing", "done").
    storage : {"full", "sq8", "sq4", "auto"}, default "full", keyword-only
        The candidate storage of the indexes built and timed (E2LSHIndex's `storage`): tune with
        the storage the index will have, since candidates cost less on codes and the fastest
        setting moves towards more candidates and fewer probes. "auto" tunes with "sq8", then
        times the chosen setting with every storage and keeps the fastest (`storage` and
        `storage_timings` of the result): 8-bit codes pay on 8-bit data such as pixels, 4-bit
        codes can lose to full rows on float features. An unknown name raises ValueError.
    choose_storage : bool, default False, keyword-only
        Tune with `storage`, then time the chosen setting with every other storage and keep the
        fastest (``storage="auto"`` is ``storage="sq8", choose_storage=True``). Nothing is timed
        when all four unit costs are fixed: the given storage stands.

    Returns
    -------
    TuneResult
        The chosen `params` and what an index with them measured; `scan_is_faster` reports when
        the exact scan beat it on the same sample.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) for bad options or too little data (needs >= 5 (k + 1) rows),
        metric "ip", or empty queries; (pstable.DimensionMismatch) queries whose width differs
        from data's.
    TypeError
        A `progress` that is neither None, a bool nor a callable, non-integer integer options,
        or non-numeric data.
    KeyboardInterrupt
        Ctrl-C stops the tuning between steps; an exception the progress callable raises stops
        it too, and propagates.

    Notes
    -----
    Holds out `num_queries` rows of `data` as queries, or uses the given `queries`, optionally
    tunes on a sample of `max_points` rows, tries every (num_hashes in hash_counts, bucket width
    from each table collision probability, probes in probe_counts, min_collisions in
    collision_thresholds, L up to max_tables), models the query time with unit costs timed on
    this machine (fix distance_us, lookup_us, hash_us and entry_us > 0 to make the choice
    reproducible) and builds and times real indexes for the `shortlist` settings the model ranks
    cheapest, refits the model to those timings and times up to 3 more it then ranks
    cheapest: the fastest measured reaching the target wins (within `cost_tolerance`, the one
    computing the fewest distances; with all four unit costs fixed, or shortlist=0, the model's
    choice alone). Releases the GIL.
    """
    a = np.asarray(data)
    if dtype is None:
        dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float32
    name = _dtype_name(dtype)
    rows, _ = _as_rows(a, np.dtype(name), "data")
    sample = None if queries is None else _as_rows(queries, np.dtype(name), "queries")[0]
    c, i32 = _checks, lambda v, name: _checks.integers(v, name, "int32")  # noqa: E731
    r = _core.tune(rows, metric, dict(
        k=c.integer(k, "k"), target_recall=target_recall, recall_margin=recall_margin,
        num_queries=c.integer(num_queries, "num_queries"),
        max_points=c.integer(max_points, "max_points"),
        max_tables=c.integer(max_tables, "max_tables", "int32"),
        hash_counts=i32(hash_counts, "hash_counts"), table_collision=list(table_collision),
        probe_counts=i32(probe_counts, "probe_counts"),
        collision_thresholds=i32(collision_thresholds, "collision_thresholds"),
        seed=c.integer(seed, "seed", "uint64"), distance_us=distance_us, lookup_us=lookup_us,
        hash_us=hash_us, entry_us=entry_us, cost_tolerance=cost_tolerance,
        shortlist=c.integer(shortlist, "shortlist", "int32"),
        choose_storage=storage == "auto" or _flag(choose_storage, "choose_storage"),
    ), sample, _progress_callback(progress), "sq8" if storage == "auto" else _storage_name(storage))
    return TuneResult(
        params=dict(r["params"]), recall=r["recall"], mean_visited=r["mean_visited"],
        visited_fraction=r["visited_fraction"], queries_per_second=r["queries_per_second"],
        exact_queries_per_second=r["exact_queries_per_second"], scan_is_faster=r["scan_is_faster"],
        typical_distance=r["typical_distance"], reached_target=r["reached_target"],
        indexed_points=r["indexed_points"], dim=rows.shape[1], metric=metric, dtype=name, k=k,
        trials=list(r["trials"]),
        unit_costs_us={"distance": r["distance_us"], "lookup": r["lookup_us"], "hash": r["hash_us"],
                       "entry": r["entry_us"]},
        storage=r["storage"], storage_timings=dict(r["storage_timings"]),
    )
