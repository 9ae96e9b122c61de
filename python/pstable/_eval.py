"""Readers (pstable io/) and the evaluator (pstable eval/): thin bindings, numpy in and out.

A search result is the `pstable.Result` that `search` and `ground_truth` return (it records its
metric), or a plain tuple `(ids, distances[, visited])`, whose metric is unknown.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Optional, Sequence, Union, overload

import numpy as np
import numpy.typing as npt

from . import _checks
from ._index import DType, Metric, _as_rows, _core, _dtype_name
from ._result import Result

PathLike = Union[str, "os.PathLike[str]"]
ResultLike = Union[Result, Sequence[Any], npt.NDArray[Any]]
#: One value per query (`per_query=True`).
PerQuery = npt.NDArray[np.float64]


# -- readers ---------------------------------------------------------------------------------

def read_npy(path: PathLike, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .npy array of points (float16/32/64 or uint8, C order) as (n x dim) `dtype`; 1-D is one
    point. Raises pstable.FormatError (ValueError) for other files, pstable.IoError (OSError)."""
    return _core.read_rows(os.fspath(path), "npy", _dtype_name(dtype), -1, False)


def read_npy_labels(path: PathLike) -> npt.NDArray[np.int32]:
    """Integer labels from a 1-D or (n, 1) .npy array of int32, int64 or uint8."""
    return _core.read_npy_labels(os.fspath(path))


def read_fvecs(path: PathLike, max_rows: int = -1, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .fvecs file, one vector per row; `max_rows` >= 0 reads only the first ones."""
    return _core.read_rows(os.fspath(path), "fvecs", _dtype_name(dtype), max_rows, False)


def read_bvecs(path: PathLike, max_rows: int = -1, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .bvecs file (uint8 vectors) converted to `dtype`, one vector per row."""
    return _core.read_rows(os.fspath(path), "bvecs", _dtype_name(dtype), max_rows, False)


def read_ivecs(path: PathLike, max_rows: int = -1) -> npt.NDArray[np.int32]:
    """A .ivecs file (int32 vectors, e.g. ground-truth ids), one vector per row."""
    return _core.read_ivecs(os.fspath(path), max_rows)


def read_idx_images(path: PathLike, scale: bool = True, dtype: DType = "float32") -> npt.NDArray[Any]:
    """An IDX image file (MNIST/Fashion-MNIST, gzip or plain) as (n x rows*cols) `dtype`; pixels
    become byte / 255 with `scale`, else stay 0..255."""
    return _core.read_rows(os.fspath(path), "idx", _dtype_name(dtype), -1, bool(scale))


def read_idx_labels(path: PathLike) -> npt.NDArray[np.int32]:
    """An IDX label file (gzip or plain): one label 0..255 per item, int32."""
    return _core.read_idx_labels(os.fspath(path))


# -- evaluator -------------------------------------------------------------------------------

def _ids(result: Any) -> npt.NDArray[np.int64]:
    ids = result[0] if isinstance(result, tuple) else result
    ids = np.asarray(ids)
    if ids.ndim == 1:
        ids = ids.reshape(1, -1)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _distances(result: Any, what: str) -> npt.NDArray[np.float64]:
    if not isinstance(result, tuple) or len(result) < 2:
        raise TypeError(f"{what} must be a search result tuple (ids, distances[, visited])")
    d = np.asarray(result[1], dtype=np.float64)
    return np.ascontiguousarray(d.reshape(1, -1) if d.ndim == 1 else d)


def _metric(result: Any) -> str:
    """The metric `result` records, "" when unknown (a plain tuple)."""
    return (getattr(result, "metric", None) or "") if isinstance(result, Result) else ""


def _metric_arg(metric: Optional[str]) -> str:
    if metric is not None and not isinstance(metric, str):
        raise TypeError(f"metric must be a metric name or None, got {type(metric).__name__}")
    return metric or ""


def _k(ids: np.ndarray[Any, Any], k: Optional[int]) -> int:
    return int(ids.shape[1]) if k is None else int(k)


def _labels(x: npt.ArrayLike) -> list[int]:
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {a.dtype}")
    return a.astype(np.int32).ravel().tolist()


def ground_truth(
    data: npt.ArrayLike, queries: npt.ArrayLike, k: int, metric: Metric = "euclidean",
    num_threads: Optional[int] = 0, dtype: DType = "float32",
) -> Result:
    """The exact neighbours of every query among the rows of `data` (ExactIndex): a
    `pstable.Result` (unpacks as `(ids, distances)`) that records `metric`."""
    d = np.dtype(_dtype_name(dtype))
    x, _ = _as_rows(data, d, "data")
    q, _ = _as_rows(queries, d, "queries")
    k, num_threads = _checks.integer(k, "k"), _checks.threads(num_threads)
    ids, distances, name = _core.ground_truth(x, q, k, metric, num_threads)
    return Result(ids, distances, name)


@overload
def recall_at_k(
    result: ResultLike, truth: ResultLike, k: Optional[int] = ...,
    metric: Optional[Metric] = ..., epsilon: float = ..., per_query: Literal[False] = ...,
) -> float: ...


@overload
def recall_at_k(
    result: ResultLike, truth: ResultLike, k: Optional[int] = ...,
    metric: Optional[Metric] = ..., epsilon: float = ..., *, per_query: Literal[True],
) -> PerQuery: ...


@overload
def recall_at_k(
    result: ResultLike, truth: ResultLike, k: Optional[int] = ...,
    metric: Optional[Metric] = ..., epsilon: float = ..., per_query: bool = ...,
) -> Union[float, PerQuery]: ...


def recall_at_k(
    result: ResultLike, truth: ResultLike, k: Optional[int] = None,
    metric: Optional[Metric] = None, epsilon: float = 1e-3, per_query: bool = False,
) -> Union[float, PerQuery]:
    """Mean recall@k of `result` against the exact `truth`: the fraction of the first k results
    as close as the true k-th neighbour, up to a relative `epsilon` (ann-benchmarks'
    distance-threshold recall). `per_query=True` gives the array.

    The distances are read in the metric the results record (`Result.metric`); `metric=None`
    takes it from them. A `metric` that differs from theirs, or a result and a truth of different
    metrics, raise ValueError (pstable.InvalidArgument) naming both. Plain `(ids, distances)`
    tuples record none: then pass `metric`."""
    ids = _ids(result)
    r = _core.recall_per_query(ids, _distances(result, "result"), _ids(truth),
                               _distances(truth, "truth"), _k(ids, k), _metric_arg(metric),
                               epsilon, _metric(result), _metric(truth))
    return r if per_query else float(r.mean()) if r.size else 0.0


@overload
def precision_at_k(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., per_query: Literal[False] = ...,
) -> float: ...


@overload
def precision_at_k(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., *, per_query: Literal[True],
) -> PerQuery: ...


@overload
def precision_at_k(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., per_query: bool = ...,
) -> Union[float, PerQuery]: ...


def precision_at_k(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = None, per_query: bool = False,
) -> Union[float, PerQuery]:
    """Mean precision@k by label (the report's "mAP"): the share of the first k results whose
    base label equals the query's. Padding (id -1) and label -1 (distractors) never count.
    `result` is a search tuple or the ids array."""
    ids = _ids(result)
    p = _core.precision_per_query(ids, _labels(query_labels), _labels(base_labels), _k(ids, k))
    return p if per_query else float(p.mean()) if p.size else 0.0


@overload
def mean_average_precision(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., per_query: Literal[False] = ...,
) -> float: ...


@overload
def mean_average_precision(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., *, per_query: Literal[True],
) -> PerQuery: ...


@overload
def mean_average_precision(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = ..., per_query: bool = ...,
) -> Union[float, PerQuery]: ...


def mean_average_precision(
    result: ResultLike, query_labels: npt.ArrayLike, base_labels: npt.ArrayLike,
    k: Optional[int] = None, per_query: bool = False,
) -> Union[float, PerQuery]:
    """Mean AP@k (the standard mAP@k): AP = (1 / min(k, R)) sum_i P(i) rel(i), R the number of
    base items of the query's label. `per_query=True` gives the AP of each query."""
    ids = _ids(result)
    a = _core.average_precision_per_query(ids, _labels(query_labels), _labels(base_labels),
                                          _k(ids, k))
    return a if per_query else float(a.mean()) if a.size else 0.0


def evaluate(
    result: ResultLike, truth: ResultLike, query_labels: npt.ArrayLike,
    base_labels: npt.ArrayLike, seconds: float, k: Optional[int] = None,
    metric: Optional[Metric] = None, epsilon: float = 1e-3,
) -> dict[str, Any]:
    """Every measure of one search run, as the report tabulated them: a dict with k, precision
    (the report's "mAP"), recall, average_precision, mean_value (mean distance or similarity),
    mean_visited, visited_fraction, queries_per_second (from `seconds`, the search's wall time)
    and {label: mean} dicts precision_per_class, recall_per_class, average_precision_per_class.
    `result` is a `pstable.Result` from `search` (its `visited` is used) or a plain tuple
    (ids, distances, visited); without visited the visited figures are 0. `metric` as for
    `recall_at_k`: None takes the one the results record, a mismatch raises ValueError."""
    ids = _ids(result)
    visited = getattr(result, "visited", None) if isinstance(result, Result) else None
    if visited is None and isinstance(result, tuple) and len(result) >= 3:
        visited = result[2]
    if visited is not None:
        visited = np.ascontiguousarray(np.atleast_1d(visited), dtype=np.int64)
    return _core.evaluate(ids, _distances(result, "result"), visited, _ids(truth),
                          _distances(truth, "truth"), _labels(query_labels),
                          _labels(base_labels), _k(ids, k), seconds, _metric_arg(metric),
                          epsilon, _metric(result), _metric(truth))
