"""The result type of searches and of `ground_truth`: a tuple that knows its metric."""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
ValueArray = npt.NDArray[np.floating[Any]]
#: `visited` / `probed` per query: an int64 array, or an int for a 1-D query.
Counts = Union[npt.NDArray[np.int64], int]
#: `search` with return_counts or return_probed: (ids, distances, visited or probed).
CountedResult = Tuple[IdArray, ValueArray, Counts]
#: `search` with both: (ids, distances, visited, probed).
FullyCountedResult = Tuple[IdArray, ValueArray, Counts, Counts]


class Result(Tuple[IdArray, ValueArray]):
    """What `search` and `ground_truth` return: unpacks as `(ids, distances)`, and records the
    metric of the distances so that the evaluator needs no `metric=` and refuses to compare
    results of different metrics.

    A search asked for `return_counts=True` (or `return_probed=True`) still returns a Result,
    whose tuple then also holds visited (and probed) after the distances, as before.
    `Result(ids, distances, metric="cosine")` wraps arrays computed elsewhere.

    Parameters
    ----------
    ids : array_like of int, shape (n, k)
        Neighbour ids, best first, -1 pads.
    distances : array_like, shape (n, k)
        Their distances or similarities.
    metric : str or None, default None
        The metric's name, or None when unknown.
    visited, probed : optional
        Per-query counts, or None.

    Attributes
    ----------
    ids : numpy.ndarray of int64, shape (n, k)
        Best first, -1 pads.
    distances : numpy.ndarray, shape (n, k)
        Euclidean or Manhattan distances, or similarities for 'cosine' and 'ip'.
    metric : str or None
        The metric's name, or None when unknown.
    visited : numpy.ndarray of int64, int or None
        Distance computations per query, or None.
    probed : numpy.ndarray of int64, int or None
        Hash buckets looked up per query: 0 for ExactIndex, None for ground truth.

    Raises
    ------
    TypeError
        A `metric` that is neither a string nor None.
    """

    # A tuple subclass cannot have non-empty __slots__: the attributes live in __dict__.
    ids: IdArray
    distances: ValueArray
    metric: Optional[str]
    visited: Optional[Any]
    probed: Optional[Any]

    def __new__(
        cls, ids: npt.ArrayLike, distances: npt.ArrayLike, metric: Optional[str] = None,
        visited: Optional[Any] = None, probed: Optional[Any] = None,
    ) -> "Result":
        return cls._of((ids, distances), metric, visited, probed)

    @classmethod
    def _of(
        cls, items: tuple[Any, ...], metric: Optional[str], visited: Optional[Any] = None,
        probed: Optional[Any] = None,
    ) -> "Result":
        """A Result whose tuple holds `items` (ids and distances first)."""
        if metric is not None and not isinstance(metric, str):
            raise TypeError(f"metric must be a metric name or None, got {type(metric).__name__}")
        r = tuple.__new__(cls, items)
        r.ids, r.distances = items[0], items[1]
        r.metric, r.visited, r.probed = metric or None, visited, probed
        return r

    def __reduce__(self) -> tuple[Any, ...]:
        return (Result._of, (tuple(self), self.metric, self.visited, self.probed))

    def __repr__(self) -> str:
        shape = getattr(self.ids, "shape", None)
        return f"Result(metric={self.metric!r}, shape={shape}, items={len(self)})"


OffsetArray = npt.NDArray[np.int64]
#: `search_radius` with return_counts or return_probed, and with both.
CountedRangeResult = Tuple[OffsetArray, IdArray, ValueArray, npt.NDArray[np.int64]]
FullyCountedRangeResult = Tuple[
    OffsetArray, IdArray, ValueArray, npt.NDArray[np.int64], npt.NDArray[np.int64]
]


class RangeResult(Tuple[OffsetArray, IdArray, ValueArray]):
    """What `search_radius` returns: unpacks as `(offsets, ids, distances)` (FAISS's
    range_search layout: query i's results are `ids[offsets[i]:offsets[i + 1]]`, best first), and
    records the metric, like `Result`.

    The tuple holds `len(r)` items as asked (`return_counts=True` adds visited,
    `return_probed=True` probed). `r.row(i)` is query i's `(ids, distances)`.

    Attributes
    ----------
    offsets : numpy.ndarray of int64, shape (n + 1,)
        Query i's results lie at ``offsets[i]:offsets[i + 1]``.
    ids : numpy.ndarray of int64
        The ids of all queries' results, query by query.
    distances : numpy.ndarray
        Distances, or similarities for 'cosine' and 'ip'.
    metric : str or None
        The metric's name.
    visited, probed : numpy.ndarray of int64
        Per query.
    """

    offsets: OffsetArray
    ids: IdArray
    distances: ValueArray
    metric: Optional[str]
    visited: Optional[Any]
    probed: Optional[Any]

    @classmethod
    def _of(
        cls, items: tuple[Any, ...], metric: Optional[str], visited: Optional[Any] = None,
        probed: Optional[Any] = None,
    ) -> "RangeResult":
        """A RangeResult whose tuple holds `items` (offsets, ids and distances first)."""
        r = tuple.__new__(cls, items)
        r.offsets, r.ids, r.distances = items[0], items[1], items[2]
        r.metric, r.visited, r.probed = metric or None, visited, probed
        return r

    def row(self, i: int) -> tuple[IdArray, ValueArray]:
        """Query i's results.

        Parameters
        ----------
        i : int
            The query's row.

        Returns
        -------
        ids : numpy.ndarray of int64
            Query i's ids, best first.
        distances : numpy.ndarray
            Their distances (or similarities).
        """
        sl = slice(int(self.offsets[i]), int(self.offsets[i + 1]))
        return self.ids[sl], self.distances[sl]

    def __reduce__(self) -> tuple[Any, ...]:
        return (RangeResult._of, (tuple(self), self.metric, self.visited, self.probed))

    def __repr__(self) -> str:
        return (f"RangeResult(metric={self.metric!r}, queries={len(self.offsets) - 1}, "
                f"total={len(self.ids)}, items={len(self)})")
