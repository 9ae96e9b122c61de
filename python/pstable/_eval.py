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
from ._errors import InvalidArgument
from ._result import RangeResult, Result

PathLike = Union[str, "os.PathLike[str]"]
ResultLike = Union[Result, Sequence[Any], npt.NDArray[Any]]
#: One value per query (`per_query=True`).
PerQuery = npt.NDArray[np.float64]


# -- readers ---------------------------------------------------------------------------------

def read_npy(path: PathLike, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .npy array of points (float16/32/64 or uint8, C order) as (n x dim) `dtype`.

    Parameters
    ----------
    path : str or os.PathLike
        The .npy file: a 2-D array gives one point per row; a 1-D array is one point.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of the returned array.

    Returns
    -------
    numpy.ndarray, shape (n, dim)
        The points, of `dtype` (1 x n for a 1-D array).

    Raises
    ------
    pstable.FormatError
        (an OSError) for other files: Fortran-ordered, big-endian, other dtypes, 0-D or 3-D+
        arrays, truncated or oversized files.
    OSError
        (pstable.IoError) if the file cannot be opened or read.
    TypeError
        A dtype other than float32 and float64.
    """
    return _core.read_rows(os.fspath(path), "npy", _dtype_name(dtype), -1, False)


def read_npy_labels(path: PathLike) -> npt.NDArray[np.int32]:
    """Integer labels from a 1-D or (n, 1) .npy array of int32, int64 or uint8.

    Parameters
    ----------
    path : str or os.PathLike
        The .npy file.

    Returns
    -------
    numpy.ndarray of int32, shape (n,)
        One label per item.

    Raises
    ------
    pstable.FormatError
        (an OSError) for other dtypes or shapes, and for int64 values outside int32.
    OSError
        (pstable.IoError) if the file cannot be opened or read.
    """
    return _core.read_npy_labels(os.fspath(path))


def read_fvecs(path: PathLike, max_rows: int = -1, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .fvecs file (float32 vectors), one vector per row.

    Parameters
    ----------
    path : str or os.PathLike
        The .fvecs file.
    max_rows : int, default -1
        >= 0 reads only the first ones; -1 reads all.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of the returned array.

    Returns
    -------
    numpy.ndarray, shape (n, dim)
        The vectors, of `dtype`; an empty file gives a 0 x 0 array.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) max_rows below -1.
    pstable.FormatError
        (an OSError) if a vector's dimension differs from the first or the file ends inside a
        vector.
    OSError
        (pstable.IoError) if the file cannot be opened or read.
    TypeError
        A non-integer max_rows, or a dtype other than float32 and float64.
    """
    return _core.read_rows(os.fspath(path), "fvecs", _dtype_name(dtype), max_rows, False)


def read_bvecs(path: PathLike, max_rows: int = -1, dtype: DType = "float32") -> npt.NDArray[Any]:
    """A .bvecs file (uint8 vectors) converted to `dtype`, one vector per row.

    Parameters
    ----------
    path : str or os.PathLike
        The .bvecs file.
    max_rows : int, default -1
        >= 0 reads only the first ones; -1 reads all.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of the returned array.

    Returns
    -------
    numpy.ndarray, shape (n, dim)
        The vectors, of `dtype`.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) max_rows below -1.
    pstable.FormatError
        (an OSError) if a vector's dimension differs from the first or the file ends inside a
        vector.
    OSError
        (pstable.IoError) if the file cannot be opened or read.
    TypeError
        A non-integer max_rows, or a dtype other than float32 and float64.
    """
    return _core.read_rows(os.fspath(path), "bvecs", _dtype_name(dtype), max_rows, False)


def read_ivecs(path: PathLike, max_rows: int = -1) -> npt.NDArray[np.int32]:
    """A .ivecs file (int32 vectors, e.g. ground-truth ids), one vector per row.

    Parameters
    ----------
    path : str or os.PathLike
        The .ivecs file.
    max_rows : int, default -1
        >= 0 reads only the first ones; -1 reads all.

    Returns
    -------
    numpy.ndarray of int32, shape (n, dim)
        The vectors.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) max_rows below -1.
    pstable.FormatError
        (an OSError) if a vector's dimension differs from the first or the file ends inside a
        vector.
    OSError
        (pstable.IoError) if the file cannot be opened or read.
    TypeError
        A non-integer max_rows.
    """
    return _core.read_ivecs(os.fspath(path), max_rows)


def read_idx_images(path: PathLike, scale: bool = True, dtype: DType = "float32") -> npt.NDArray[Any]:
    """An IDX image file (MNIST/Fashion-MNIST, gzip or plain) as (n x rows*cols) `dtype`.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX image file (``*-images-idx3-ubyte[.gz]``), gzip-compressed or plain.
    scale : bool, default True
        Pixels become byte / 255 with `scale`, else stay 0..255.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of the returned array.

    Returns
    -------
    numpy.ndarray, shape (n, rows * cols)
        One image per row, pixels in row-major order.

    Raises
    ------
    pstable.FormatError
        (an OSError) if it is not a 3-dimensional IDX file of unsigned bytes, is truncated, or
        is a damaged gzip file.
    OSError
        (pstable.IoError) if the file is missing or unreadable.
    TypeError
        A dtype other than float32 and float64.
    """
    return _core.read_rows(os.fspath(path), "idx", _dtype_name(dtype), -1, bool(scale))


def read_idx_labels(path: PathLike) -> npt.NDArray[np.int32]:
    """An IDX label file (gzip or plain): one label 0..255 per item, int32.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX label file (``*-labels-idx1-ubyte[.gz]``), gzip-compressed or plain.

    Returns
    -------
    numpy.ndarray of int32, shape (n,)
        One label 0..255 per item.

    Raises
    ------
    pstable.FormatError
        (an OSError) if it is not a 1-dimensional IDX file of unsigned bytes, is truncated, or
        is a damaged gzip file.
    OSError
        (pstable.IoError) if the file is missing or unreadable.
    """
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
    """The exact neighbours of every query among the rows of `data` (ExactIndex).

    Parameters
    ----------
    data : array_like, shape (n, dim)
        The points; ids are their row numbers. Converted to `dtype` as `ExactIndex.add` does.
    queries : array_like, shape (m, dim) or (dim,)
        The query points (a 1-D query counts as one row).
    k : int
        Neighbours per query, at least 1.
    metric : str, default "euclidean"
        As for `ExactIndex`.
    num_threads : int or None, default 0
        0 or None uses `pstable.get_num_threads()` threads.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype the distances are computed in.

    Returns
    -------
    result : pstable.Result
        Unpacks as ``(ids, distances)`` (m x k each, best first) and records `metric`.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) k < 1, an unknown metric or a negative num_threads;
        (pstable.DimensionMismatch) queries whose width differs from data's;
        (pstable.InvalidData) NaN or infinite values, or zero rows under cosine.
    pstable.InvalidState
        (a RuntimeError) if `data` has no rows.
    TypeError
        Non-numeric data or queries, a non-integer k or num_threads, or a dtype other than
        float32 and float64.
    """
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
    distance-threshold recall).

    Parameters
    ----------
    result : pstable.Result or tuple
        A search result, or a plain ``(ids, distances)`` tuple.
    truth : pstable.Result or tuple
        The exact neighbours of the same queries (`ground_truth`), at least k per query.
    k : int or None, default None
        The cut-off; None takes the number of columns of `result`.
    metric : str or None, default None
        The distances are read in the metric the results record (`Result.metric`);
        `metric=None` takes it from them. Plain ``(ids, distances)`` tuples record none: then
        pass `metric`.
    epsilon : float, default 1e-3
        The relative tolerance, finite and >= 0.
    per_query : bool, default False
        `per_query=True` gives the array.

    Returns
    -------
    float or numpy.ndarray of float64, shape (n,)
        The mean recall (0.0 without queries), or with `per_query=True` one recall per query.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) A `metric` that differs from theirs, or a result and a truth
        of different metrics, naming both; no metric recorded nor passed; k < 1 or above the
        results per query; a negative or infinite epsilon. (pstable.DimensionMismatch) result
        and truth for different numbers of queries.
    TypeError
        A result or truth that is not a ``(ids, distances[, visited])`` tuple, non-integer ids,
        or a metric that is neither a name nor None.
    """
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

    Parameters
    ----------
    result : pstable.Result, tuple or array_like of int
        A search tuple or the ids array (n x k).
    query_labels : array_like of int, shape (n,)
        One class label >= 0 per query row.
    base_labels : array_like of int
        One label per indexed item: a class >= 0, or -1 for an unlabelled distractor.
    k : int or None, default None
        The cut-off; None takes the number of columns of the ids.
    per_query : bool, default False
        True gives the precision of each query.

    Returns
    -------
    float or numpy.ndarray of float64, shape (n,)
        The mean precision (0.0 without queries), or with `per_query=True` one per query.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) k < 1 or above the results per query, a query label < 0, a
        base label < -1, or a result id outside the base labels; (pstable.DimensionMismatch)
        not one query label per result row.
    TypeError
        Non-integer ids or labels.
    """
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
    base items of the query's label.

    Parameters
    ----------
    result : pstable.Result, tuple or array_like of int
        A search tuple or the ids array (n x k).
    query_labels : array_like of int, shape (n,)
        One class label >= 0 per query row.
    base_labels : array_like of int
        One label per indexed item: a class >= 0, or -1 for an unlabelled distractor.
    k : int or None, default None
        The cut-off; None takes the number of columns of the ids.
    per_query : bool, default False
        `per_query=True` gives the AP of each query.

    Returns
    -------
    float or numpy.ndarray of float64, shape (n,)
        The mean AP@k (0.0 without queries), or with `per_query=True` the AP of each query.

    Raises
    ------
    ValueError
        As `precision_at_k`: bad k or labels (pstable.InvalidArgument), not one query label per
        result row (pstable.DimensionMismatch).
    TypeError
        Non-integer ids or labels.
    """
    ids = _ids(result)
    a = _core.average_precision_per_query(ids, _labels(query_labels), _labels(base_labels),
                                          _k(ids, k))
    return a if per_query else float(a.mean()) if a.size else 0.0


def range_recall(result: RangeResult, truth: RangeResult) -> float:
    """Recall of a range search against the exact one (same queries and radius).

    The share of all true (query, point) pairs in range that `result` returned, counted over
    every query together (a query with more points in range weighs more); 1.0 when no query has
    any. Only ids are compared: E2LSHIndex.search_radius returns exact distances and nothing out
    of range, so its only error is the pairs it missed.

    Parameters
    ----------
    result : RangeResult
        The range search to grade, e.g. ``lsh.search_radius(queries, r)``.
    truth : RangeResult
        The exact one, e.g. ``ExactIndex.search_radius(queries, r)`` over the same points.

    Returns
    -------
    float
        The recall, in [0, 1].

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) The query counts differ, or both record metrics that differ.
    TypeError
        Either argument is not a RangeResult.
    """
    for name, r in (("result", result), ("truth", truth)):
        if not isinstance(r, RangeResult):
            raise TypeError(f"{name} must be a RangeResult (search_radius's), got {type(r).__name__}")
    if result.metric and truth.metric and result.metric != truth.metric:
        raise InvalidArgument(
            f"the result is {result.metric!r} but the truth {truth.metric!r}: compare one metric")
    if len(result.offsets) != len(truth.offsets):
        raise InvalidArgument(f"the result holds {len(result.offsets) - 1} queries, the truth "
                              f"{len(truth.offsets) - 1}")
    if len(truth.ids) == 0:
        return 1.0

    def pairs(r: RangeResult) -> np.ndarray[Any, Any]:
        query = np.repeat(np.arange(len(r.offsets) - 1), np.diff(r.offsets))
        return np.stack([query, r.ids], axis=1)

    # Pairs are distinct within each result: those in both appear twice in the union.
    _, counts = np.unique(np.concatenate([pairs(result), pairs(truth)]), axis=0,
                          return_counts=True)
    return float(np.count_nonzero(counts == 2)) / len(truth.ids)


def evaluate(
    result: ResultLike, truth: ResultLike, query_labels: npt.ArrayLike,
    base_labels: npt.ArrayLike, seconds: float, k: Optional[int] = None,
    metric: Optional[Metric] = None, epsilon: float = 1e-3,
) -> dict[str, Any]:
    """Every measure of one search run, as the report tabulated them.

    Parameters
    ----------
    result : pstable.Result or tuple
        A `pstable.Result` from `search` (its `visited` is used) or a plain tuple
        (ids, distances, visited); without visited the visited figures are 0.
    truth : pstable.Result or tuple
        The exact neighbours of the same queries (`ground_truth`).
    query_labels : array_like of int, shape (n,)
        One class label >= 0 per query row.
    base_labels : array_like of int
        One label per indexed item: a class >= 0, or -1 for an unlabelled distractor.
    seconds : float
        The search's wall time, positive and finite.
    k : int or None, default None
        The cut-off; None takes the number of columns of `result`.
    metric : str or None, default None
        As for `recall_at_k`: None takes the one the results record.
    epsilon : float, default 1e-3
        The relative tolerance of the recall, as for `recall_at_k`.

    Returns
    -------
    dict
        k, precision (the report's "mAP"), recall, average_precision, mean_value (mean distance
        or similarity), mean_visited, visited_fraction, queries_per_second (from `seconds`) and
        {label: mean} dicts precision_per_class, recall_per_class, average_precision_per_class.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) A metric mismatch, as for `recall_at_k`; seconds not positive
        and finite; bad k, epsilon or labels, as for `recall_at_k` and `precision_at_k`.
        (pstable.DimensionMismatch) Results, truth and query labels for different numbers of
        queries.
    TypeError
        As for `recall_at_k` and `precision_at_k`.
    """
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
