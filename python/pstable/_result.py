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

    Attributes: `ids` (n x k int64, best first, -1 pads), `distances` (n x k: Euclidean or
    Manhattan distances, or similarities for 'cosine' and 'ip'), `metric` (the metric's name, or
    None when unknown), `visited` (distance computations per query, or None) and `probed` (hash
    buckets looked up per query: 0 for ExactIndex, None for ground truth). A search asked for
    `return_counts=True` (or `return_probed=True`) still returns a Result, whose tuple then also
    holds visited (and probed) after the distances, as before.

    `Result(ids, distances, metric="cosine")` wraps arrays computed elsewhere.
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

    Attributes: `offsets` (n + 1 int64), `ids`, `distances` (distances, or similarities for
    'cosine' and 'ip'), `metric`, `visited` and `probed` (per query), and `len(r)` items as asked
    (`return_counts=True` adds visited, `return_probed=True` probed). `r.row(i)` is query i's
    `(ids, distances)`.
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
        """Query i's results: `(ids, distances)`, best first."""
        sl = slice(int(self.offsets[i]), int(self.offsets[i + 1]))
        return self.ids[sl], self.distances[sl]

    def __reduce__(self) -> tuple[Any, ...]:
        return (RangeResult._of, (tuple(self), self.metric, self.visited, self.probed))

    def __repr__(self) -> str:
        return (f"RangeResult(metric={self.metric!r}, queries={len(self.offsets) - 1}, "
                f"total={len(self.ids)}, items={len(self)})")
