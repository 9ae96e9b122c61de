"""The index classes: numpy-facing wrappers over the compiled core's type-erased indexes."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union, overload

import numpy as np
import numpy.typing as npt

from . import _checks, _simd
from ._result import (
    CountedRangeResult,
    Counts,
    CountedResult,
    FullyCountedRangeResult,
    FullyCountedResult,
    RangeResult,
    Result,
)

if TYPE_CHECKING:
    from ._core import Index as _CoreIndex

_core = _simd.choose()

#: Metric names and their aliases (the C++ list in pstable/metric/traits.hpp is the authority).
Metric = Literal["euclidean", "l2", "cosine", "ip", "inner_product", "manhattan", "l1"]
DType = Union[Literal["float32", "float64"], "np.dtype[Any]", type]
#: How an E2LSHIndex scores candidates: full-precision rows, or 8-bit codes first.
Storage = Literal["full", "sq8", "sq4"]
#: The `filter=` of the searches: a boolean mask over ids, an integer array of allowed ids, or a
#: callable given the index's ids (`ids()`) once per search that returns a boolean array aligned
#: with them or allowed ids.
FilterLike = Union[npt.ArrayLike, Callable[[npt.NDArray[np.int64]], npt.ArrayLike], None]

_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}


def _dtype_name(dtype: DType) -> str:
    try:
        d = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from e
    if d not in _DTYPES:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {d}")
    return _DTYPES[d]


def _storage_name(storage: object) -> str:
    if not isinstance(storage, str) or storage not in _core.storages:
        names = [repr(s) for s in _core.storages]
        listed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise ValueError(f"storage must be {listed}, got {storage!r}")
    return storage


def _as_rows(x: Any, dtype: np.dtype[Any], what: str) -> tuple[np.ndarray[Any, Any], bool]:
    """A C-contiguous 2-D array of `dtype` holding `x`, and whether `x` was one 1-D point.

    Arrays that already are C-contiguous of the right dtype pass through unchanged (no copy); other
    numeric arrays (other float or integer dtypes, Fortran order, strided views, lists) are
    converted with one copy. Anything else raises TypeError or ValueError saying what to pass.
    """
    a = x if isinstance(x, np.ndarray) else np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise TypeError(
            f"{what} must hold real numbers (float32 or float64), got dtype {a.dtype}; "
            f"pass e.g. numpy.asarray({what}, dtype=numpy.{dtype})"
        )
    if a.ndim == 1:
        a, single = a.reshape(1, -1), True
    elif a.ndim == 2:
        single = False
    else:
        raise ValueError(
            f"{what} must be 2-D (one point per row) or 1-D (one point), got shape {a.shape}"
        )
    return np.ascontiguousarray(a, dtype=dtype), single


def _load_impl(
    path: str | os.PathLike[str], kind: str | None = None, metric: Metric | None = None,
    dtype: DType | None = None, mmap: bool = False, storage: Storage | None = None,
) -> Any:
    """The core's index in the file at `path`, read once; kind, metric and dtype are the file's
    own unless given (then a file holding others raises FormatError); an E2LSH index gets the
    file's storage unless `storage` is given."""
    if not isinstance(mmap, bool):
        raise TypeError(f"mmap must be True or False, got {mmap!r}")
    return _core.load_file(
        os.fspath(path), kind, metric, None if dtype is None else _dtype_name(dtype), mmap,
        None if storage is None else _storage_name(storage),
    )


def _file_bytes(impl: Any) -> bytes:
    """The index file of `impl` as bytes (saved through a private temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="pstable-") as d:
        path = os.path.join(d, "index.pst")
        impl.save(path)
        with open(path, "rb") as f:
            return f.read()


def _from_file_bytes(data: bytes, kind: str) -> Any:
    """The core's index of `kind` in `data`, written to a private temporary file and loaded."""
    with tempfile.TemporaryDirectory(prefix="pstable-") as d:
        path = os.path.join(d, "index.pst")
        with open(path, "wb") as f:
            f.write(data)
        return _load_impl(path, kind)


def load(path: str | os.PathLike[str], *, mmap: bool = False) -> "_Index":
    """Loads any index file written by `save`: the class, metric and dtype come from its header.

    Parameters
    ----------
    path : str or os.PathLike
        The index file.
    mmap : bool, default False
        With True the file is mapped read-only and the index reads its rows in place: opening
        costs a checksum pass instead of a copy, and processes mapping one file share its memory
        (see `ExactIndex.load`).

    Returns
    -------
    ExactIndex or E2LSHIndex
        The index the file holds, of the class, metric and dtype its header names.

    Raises
    ------
    OSError
        (pstable.IoError) if the file cannot be read or mapped.
    pstable.FormatError
        (an OSError) if it is not a valid pstable index file (truncated, corrupted, foreign or
        too new).
    TypeError
        If `mmap` is not True or False.
    """
    impl = _load_impl(path, mmap=mmap)
    cls: type[_Index] = ExactIndex if impl.kind == "exact" else E2LSHIndex
    index = cls.__new__(cls)
    index._impl = impl
    return index


class _Index:
    """Common part of the index classes (not constructed directly)."""

    _impl: "_CoreIndex"

    @property
    def dim(self) -> int:
        """Number of coordinates of every point."""
        return self._impl.dim

    @property
    def size(self) -> int:
        """Points searches can return: added minus removed (ids lie below next_id)."""
        return self._impl.size

    @property
    def metric(self) -> str:
        """'euclidean', 'cosine', 'ip' or 'manhattan' (aliases are resolved)."""
        return self._impl.metric

    @property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype of stored points and returned distances (float32 or float64)."""
        return np.dtype(self._impl.dtype)

    @property
    def memory_bytes(self) -> int:
        """Bytes the index holds (borrowed or mapped rows not counted)."""
        return self._impl.memory_bytes

    @property
    def owns_data(self) -> bool:
        """False while the index reads a borrowed array or a mapped file (`load(mmap=True)`);
        the first `add` (or E2LSH `compact`) copies the rows into the index."""
        return self._impl.owns_data

    def __len__(self) -> int:
        return self._impl.size

    def add(self, data: npt.ArrayLike, ids: Optional[npt.ArrayLike] = None) -> None:
        """Appends the rows of `data`, under default ids or ids of your choosing.

        Parameters
        ----------
        data : array_like, shape (n, dim) or (dim,)
            The points. The index copies them; other dtypes and layouts are converted first (one
            more copy).
        ids : array_like of int, shape (n,), optional
            One id per row, like FAISS's ``add_with_ids`` or hnswlib's labels: integers in
            [0, 2**62), none repeated, none held by the index (a removed id is held until
            `compact()`). Searches, `remove`, `in` and `filter=` then use them. Default:
            `next_id`, `next_id + 1`, ... After any add, `next_id` is one past the largest id held.

        Raises
        ------
        ValueError
            (pstable.InvalidArgument) Wrong width, NaN or infinite values, zero rows under cosine,
            or bad ids (the first one is named). The index is then unchanged.
        TypeError
            Non-numeric data or non-integer ids.

        Notes
        -----
        Releases the GIL while adding. Ids that do not increase with insertion order cost a
        lookup table of 8 bytes per point, rebuilt in O(size) per `add`: add such ids in batches.
        """
        rows, _ = _as_rows(data, self.dtype, "data")
        if ids is None:
            self._impl.add(rows, None)
            return
        self._impl.add(rows, _checks.id_array(ids, "ids"))  # the core checks one id per row

    def ids(self) -> npt.NDArray[np.int64]:
        """The ids searches can return, in the order the points were added.

        Returns
        -------
        numpy.ndarray of int64, shape (size,)
            `size` ids: removed ones are left out.
        """
        return self._impl.ids()

    @property
    def next_id(self) -> int:
        """The id the next added row receives."""
        return self._impl.next_id

    @property
    def num_removed(self) -> int:
        """Removed points still held in memory until `compact()`."""
        return self._impl.num_removed

    def __contains__(self, id: object) -> bool:
        return _checks.is_id(id) and self._impl.contains(int(id))

    def remove(self, ids: Union[int, npt.ArrayLike]) -> None:
        """Removes one id or an array of ids: they are never returned again.

        Parameters
        ----------
        ids : int or array_like of int, shape (n,)
            The ids to remove. All are checked first: added, not yet removed, no repeats.

        Raises
        ------
        ValueError
            (pstable.InvalidArgument) An id that was never added or was already removed, an id
            given twice, or a 2-D array. Nothing is removed then.
        TypeError
            Non-integer ids.

        Notes
        -----
        Memory is reclaimed by `compact()`.
        """
        self._impl.remove(_checks.id_array(ids).tolist())

    def compact(self) -> None:
        """Drops removed points from memory (and E2LSH's tables); other ids do not change.

        Notes
        -----
        A borrowed or mapped index copies the remaining rows into memory it owns.
        """
        self._impl.compact()

    def _allowed_mask(self, filter: FilterLike) -> np.ndarray[Any, Any] | None:
        """The `filter=` of the searches for the core: None (every id), a bool mask over ids or
        the allowed ids, increasing."""
        if filter is None:
            return None
        held = None
        if callable(filter):
            held = self.ids()
            filter = filter(held)
        a = np.asarray(filter)
        if a.ndim != 1:
            raise ValueError(f"filter must be 1-D (a mask over ids or allowed ids), got shape {a.shape}")
        if a.dtype == np.bool_:
            if held is None:
                return np.ascontiguousarray(a)
            if len(a) != len(held):
                raise ValueError(
                    f"the filter callable returned {len(a)} booleans for the {len(held)} ids it "
                    f"was given; return one per id, or the allowed ids"
                )
            return _checks.allowed_ids(held[a])
        if a.dtype.kind not in "iuO":  # O: Python ints beyond 64 bits, checked by _checks
            raise TypeError(
                f"filter must be a boolean mask over ids, an integer array of allowed ids or a "
                f"callable returning one, got dtype {a.dtype}"
            )
        return _checks.allowed_ids(a)

    # The return type follows return_counts and return_probed (either may be passed by keyword;
    # return_counts also by position).
    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = ...,
        return_counts: Literal[False] = ..., *, filter: FilterLike = ...,
        return_probed: Literal[False] = ...,
    ) -> Result: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int],
        return_counts: Literal[True], *, filter: FilterLike = ...,
        return_probed: Literal[False] = ...,
    ) -> CountedResult: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = ..., *,
        return_counts: Literal[True], filter: FilterLike = ..., return_probed: Literal[False] = ...,
    ) -> CountedResult: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = ...,
        return_counts: Literal[False] = ..., *, filter: FilterLike = ...,
        return_probed: Literal[True],
    ) -> CountedResult: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int],
        return_counts: Literal[True], *, filter: FilterLike = ..., return_probed: Literal[True],
    ) -> FullyCountedResult: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = ..., *,
        return_counts: Literal[True], filter: FilterLike = ..., return_probed: Literal[True],
    ) -> FullyCountedResult: ...

    @overload
    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = ...,
        return_counts: bool = ..., *, filter: FilterLike = ..., return_probed: bool = ...,
    ) -> Union[Result, CountedResult, FullyCountedResult]: ...

    def search(
        self, queries: npt.ArrayLike, k: int, num_threads: Optional[int] = 0,
        return_counts: bool = False, *, filter: FilterLike = None, return_probed: bool = False,
    ) -> Union[Result, CountedResult, FullyCountedResult]:
        """The k best points for each query row.

        Parameters
        ----------
        queries : array_like, shape (n, dim) or (dim,)
            The query points. A C-contiguous array of the index's dtype is read in place (no
            copy); other inputs are converted first. A 1-D query gives 1-D results.
        k : int
            Neighbours per query, at least 1. k may exceed `size`: rows are then padded.
        num_threads : int or None, default 0
            0 or None (the default) uses `pstable.get_num_threads()` threads, all allowed CPUs
            unless set; one query runs on the calling thread.
        return_counts : bool, default False
            With True the tuple also holds `visited`, the distance computations per query.
        filter : array_like of bool, array_like of int, callable or None, keyword-only
            Restricts results to some ids without a Python call per point: a boolean mask over
            ids (mask[id] True = allowed; ids past its end are excluded), an integer array of
            allowed ids, or a callable called ONCE with the index's ids (`ids()`) that returns a
            boolean array aligned with them (e.g. ``lambda ids: labels[ids] == 3``) or allowed
            ids. Rejected points cost no distance computation and count in no result. None (the
            default) allows every id.
        return_probed : bool, default False, keyword-only
            With True the tuple also holds `probed`, the hash buckets looked up per query (0 for
            ExactIndex), after visited when both are asked for.

        Returns
        -------
        result : pstable.Result
            Unpacks as ``(ids, distances)``, each (n x k), best first, and records the metric.
            distances are Euclidean or Manhattan distances, or similarities for 'cosine' and 'ip'
            (larger is better); ties order by the smaller id. Rows are padded with id -1 and inf
            (-inf for similarities) when fewer than k points qualify: k above `size`, a filter
            allowing fewer, or (E2LSHIndex) probed buckets holding fewer. The tuple then holds
            `visited` and `probed` as asked for; both are always available as `result.visited`
            and `result.probed` (an int per query for a 1-D query).

        Raises
        ------
        ValueError
            k < 1, num_threads negative or beyond a C int, or negative ids in `filter` (these
            as pstable.InvalidArgument); a `filter` that is not 1-D, a filter callable returning
            booleans not aligned with the ids it was given, or queries of 3 or more dimensions.
        pstable.DimensionMismatch
            (a ValueError) Queries whose width is not `dim`.
        pstable.InvalidData
            (a ValueError) NaN or infinite values, or a zero query row under cosine.
        pstable.InvalidState
            (a RuntimeError) The index is empty.
        TypeError
            Non-numeric queries, a non-integer k or num_threads, or a `filter` that is neither
            booleans, integers nor a callable returning one.

        Notes
        -----
        Releases the GIL.
        """
        q, single = _as_rows(queries, self.dtype, "queries")
        k, num_threads = _checks.integer(k, "k"), _checks.threads(num_threads)
        allowed = self._allowed_mask(filter)
        ids, distances, visited_rows, probed_rows = self._impl.search(q, k, num_threads, allowed)
        visited: Counts = visited_rows
        probed: Counts = probed_rows
        if single:
            ids, distances = ids[0], distances[0]
            visited, probed = int(visited_rows[0]), int(probed_rows[0])
        out: tuple[Any, ...] = (ids, distances)
        if return_counts:
            out += (visited,)
        if return_probed:
            out += (probed,)
        return Result._of(out, self.metric, visited, probed)

    @overload
    def search_radius(
        self, queries: npt.ArrayLike, radius: float, num_threads: Optional[int] = ...,
        return_counts: Literal[False] = ..., *, filter: FilterLike = ...,
        return_probed: Literal[False] = ...,
    ) -> RangeResult: ...

    @overload
    def search_radius(
        self, queries: npt.ArrayLike, radius: float, num_threads: Optional[int] = ...,
        return_counts: bool = ..., *, filter: FilterLike = ..., return_probed: bool = ...,
    ) -> Union[RangeResult, CountedRangeResult, FullyCountedRangeResult]: ...

    def search_radius(
        self, queries: npt.ArrayLike, radius: float, num_threads: Optional[int] = 0,
        return_counts: bool = False, *, filter: FilterLike = None, return_probed: bool = False,
    ) -> Union[RangeResult, CountedRangeResult, FullyCountedRangeResult]:
        """Every point within `radius` of each query row.

        Parameters
        ----------
        queries : array_like, shape (n, dim) or (dim,)
            The query points, read or converted as by `search` (a 1-D query counts as one row).
        radius : float
            For 'euclidean' and 'manhattan' a point is in range when its distance is <= radius;
            for 'cosine' and 'ip' `radius` is a similarity threshold: similarity >= radius. The
            comparison is made in the index's dtype.
        num_threads : int or None, default 0
            As in `search`.
        return_counts : bool, default False
            As in `search`: adds `visited` to the tuple.
        filter : array_like of bool, array_like of int, callable or None, keyword-only
            As in `search`.
        return_probed : bool, default False, keyword-only
            As in `search`: adds `probed` to the tuple.

        Returns
        -------
        result : pstable.RangeResult
            Unpacks as ``(offsets, ids, distances)`` and records the metric (`r.row(i)`: query
            i's results). FAISS's range_search layout: query i's results are
            ``ids[offsets[i]:offsets[i + 1]]`` and ``distances[offsets[i]:offsets[i + 1]]``, best
            first, ties by the smaller id; `offsets` has one entry more than there are queries.

        Raises
        ------
        ValueError
            (pstable.InvalidArgument) A NaN radius or a negative one under a distance, and as
            `search` does for bad queries, num_threads or filter.
        TypeError
            A radius that is not a real number, and as `search` does.

        Notes
        -----
        ExactIndex compares every point and so finds all; E2LSHIndex checks the points in at
        least `min_collisions` of the probed buckets, each with its exact distance: every result
        is truly in range, but a point in range that shares too few buckets with the query is
        missed (recall depends on radius / bucket_width: pick bucket_width a few times the
        radius, docs/e2lsh.md). The GIL is released during the search.
        """
        q, _ = _as_rows(queries, self.dtype, "queries")
        r = _checks.real(radius, "radius")
        num_threads = _checks.threads(num_threads)
        allowed = self._allowed_mask(filter)
        offsets, ids, distances, visited, probed = self._impl.search_radius(
            q, r, num_threads, allowed)
        out: tuple[Any, ...] = (offsets, ids, distances)
        if return_counts:
            out += (visited,)
        if return_probed:
            out += (probed,)
        return RangeResult._of(out, self.metric, visited, probed)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the index to `path` in pstable's versioned file format.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write, atomically: a failed save leaves any previous file intact. Read it
            back with `pstable.load(path)`.

        Raises
        ------
        OSError
            (pstable.IoError) if the file cannot be written.
        """
        self._impl.save(os.fspath(path))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dim={self.dim}, metric={self.metric!r}, "
            f"dtype={self._impl.dtype!r}{self._repr_extra()}, size={self.size})"
        )

    def _repr_extra(self) -> str:
        return ""


class ExactIndex(_Index):
    """Exact k-nearest-neighbour search: every query is compared with every point.

    `ExactIndex(dim, metric="euclidean", dtype="float32")` starts empty; `add` copies rows in.
    `ExactIndex.borrow(array)` searches a C-contiguous float32/float64 array in place, keeping a
    reference to it; don't modify the array while the index is used.

    Parameters
    ----------
    dim : int
        Number of coordinates of every point, at least 1.
    metric : str, default "euclidean"
        "euclidean", "cosine", "ip" (inner product) or "manhattan", or one of the aliases "l2",
        "inner_product" and "l1", which are resolved (see `metric`).
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of stored points and returned distances.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) dim < 1 or an unknown metric.
    TypeError
        A non-integer dim, or a dtype other than float32 and float64.

    Notes
    -----
    Ids are stable, as in E2LSHIndex: they continue across `add` calls (or are yours:
    `add(data, ids=...)`), `remove` hides points at once and `compact` reclaims their memory
    without changing the other ids; a default id is never reused.

    Thread safety: any method may be called from several Python threads; searches run in
    parallel, `add`, `remove` and `compact` wait for running searches.
    """

    def __init__(self, dim: int, metric: Metric = "euclidean", dtype: DType = "float32") -> None:
        self._impl = _core.make_exact(_checks.integer(dim, "dim"), metric, _dtype_name(dtype))

    @classmethod
    def borrow(cls, data: np.ndarray[Any, Any], metric: Metric = "euclidean") -> "ExactIndex":
        """An index over `data` itself: no copy.

        Parameters
        ----------
        data : numpy.ndarray, shape (n, dim)
            C-contiguous float32 or float64; the index's dtype is data's. The index keeps a
            reference to `data`; the values must not change while it is used.
        metric : str, default "euclidean"
            As for the constructor.

        Returns
        -------
        ExactIndex
            An index reading `data` in place (`owns_data` is False until the first `add`).

        Raises
        ------
        TypeError
            For other dtypes or layouts (not a numpy array, not float32/float64, not
            C-contiguous) instead of silently copying.
        ValueError
            If `data` is not 2-D; (pstable.InvalidArgument) an unknown metric;
            (pstable.InvalidData) NaN or infinite values, or a zero row under cosine.
        """
        if not isinstance(data, np.ndarray) or data.dtype not in _DTYPES:
            got = data.dtype if isinstance(data, np.ndarray) else type(data).__name__
            raise TypeError(
                f"borrow needs a float32 or float64 numpy array, got {got}; convert with "
                "numpy.ascontiguousarray(data, dtype=numpy.float32) or use add(), which copies"
            )
        if data.ndim != 2:
            raise ValueError(f"borrow needs a 2-D array (one point per row), got shape {data.shape}")
        if not data.flags.c_contiguous:
            raise TypeError(
                "borrow needs a C-contiguous array (it reads the buffer in place); convert with "
                "numpy.ascontiguousarray(data) or use add(), which copies"
            )
        index = cls.__new__(cls)
        index._impl = _core.borrow_exact(data, metric)
        return index

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], metric: Metric | None = None,
        dtype: DType | None = None, *, mmap: bool = False,
    ) -> "ExactIndex":
        """Reads an index written by `save`; metric and dtype come from the file.

        See also `pstable.load`.

        Parameters
        ----------
        path : str or os.PathLike
            The index file.
        metric : str or None, default None
            None takes the file's. Passing `metric` asserts it: a file holding another one
            raises pstable.FormatError naming what it holds.
        dtype : {"float32", "float64"}, numpy dtype or None, default None
            None takes the file's; passing it asserts it, as `metric`.
        mmap : bool, default False, keyword-only
            True maps the file read-only and searches the rows where they lie (no copy; only
            the norms are computed): the pages are shared with every process mapping the file.
            The index keeps the mapping; the file may be deleted or replaced by `save` meanwhile
            (POSIX), but must not be truncated or rewritten in place. `add` first copies the
            rows out: the file is never written. Corrupt files are rejected as without mmap.

        Returns
        -------
        ExactIndex
            The index the file holds.

        Raises
        ------
        OSError
            (pstable.IoError) if the file cannot be read or mapped.
        pstable.FormatError
            (an OSError) if the file holds another kind of index (an E2LSH index), another
            metric or dtype than those passed, or is not a valid pstable index file.
        ValueError
            (pstable.InvalidArgument) An unknown metric name.
        TypeError
            A dtype other than float32 and float64, or an `mmap` that is not True or False.
        """
        index = cls.__new__(cls)
        index._impl = _load_impl(path, "exact", metric, dtype, mmap)
        return index

    def rows(self) -> np.ndarray[Any, Any]:
        """A copy of the stored rows in insertion order.

        Returns
        -------
        numpy.ndarray, shape (size + num_removed, dim)
            The rows, of the index's dtype: removed points are held until `compact()`.
        """
        return self._impl.rows()

    def _repr_extra(self) -> str:
        return "" if self._impl.owns_data else ", borrowed=True"  # an array or a mapped file

    # Pickling goes through the index file format (bytes of a saved file), as for E2LSHIndex:
    # checksummed, portable across machines and SIMD cores; a borrowed or mapped index pickles
    # its rows and unpickles owning them. Format 1 (raw rows, older pickles) still loads.
    def __getstate__(self) -> dict[str, Any]:
        return {"format": 2, "file": _file_bytes(self._impl)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("format") == 2:
            self._impl = _from_file_bytes(state["file"], "exact")
        elif state.get("format") == 1:
            self._impl = _core.make_exact(state["dim"], state["metric"], state["dtype"])
            if len(state["rows"]):
                self._impl.add(np.ascontiguousarray(state["rows"]))
        else:
            raise ValueError(f"unknown ExactIndex pickle format {state.get('format')!r}")


class E2LSHIndex(_Index):
    """E2LSH (p-stable LSH) approximate search: L tables of k Gaussian-projection hashes.

    `E2LSHIndex(dim, metric="euclidean"|"cosine"|"manhattan", dtype="float32"|"float64", *,
    num_tables=10, num_hashes=8, bucket_width=4.0, num_probes=0, seed=1, min_collisions=1,
    storage="full")` starts empty; `add` copies rows in. Candidates are the points in at least
    `min_collisions` of the query's buckets (its own bucket in each table plus `num_probes` extra
    buckets per table by multi-probe), ranked by exact distance. Use `pstable.tune` to choose
    parameters.

    Parameters
    ----------
    dim : int
        Number of coordinates of every point, at least 1.
    metric : str, default "euclidean"
        "euclidean", "cosine" or "manhattan" (or the aliases "l2" and "l1"); E2LSH has no hash
        family for "ip": use an ExactIndex.
    dtype : {"float32", "float64"} or numpy dtype, default "float32"
        The dtype of stored points and returned distances.
    num_tables : int, default 10, keyword-only
        L: independent hash tables, in [1, 4096].
    num_hashes : int, default 8, keyword-only
        k: hash functions concatenated into one table key, in [1, 32].
    bucket_width : float, default 4.0, keyword-only
        w: width of one hash slot, in units of the data; finite and positive.
    num_probes : int, default 0, keyword-only
        Extra buckets per table by multi-probe (0 = plain E2LSH), at most 3^num_hashes - 1 and
        2^20, with num_tables * (num_probes + 1) <= 2^22. Settable later, no rebuild.
    seed : int, default 1, keyword-only
        Seed of the projections, in [0, 2**64); equal seeds give equal indexes.
    min_collisions : int, default 1, keyword-only
        m: probed buckets a point must share with the query to become a candidate (1 = any), in
        [1, num_tables]. Settable later, no rebuild.
    storage : {"full", "sq8", "sq4"}, default "full", keyword-only
        "sq8" also keeps 8-bit codes of the rows (d bytes, padded to a multiple of 64, per point
        more; from d = 256 on also a 128-byte sketch per point, read before the codes when a
        call holds fewer than 8 queries) and scores candidates on them first, reading full rows
        only for those that may still be among the k best: the same results, fewer bytes read
        per query. "sq4" does the same with 4-bit codes (d / 2 bytes, padded to a multiple of
        64): half the code bytes, wider intervals, so more full rows are re-read.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) Bad parameters, with the C++ message naming the parameter and
        its range; dim < 1, an unknown metric, or "ip". An unknown storage raises ValueError.
    TypeError
        A non-integer dim, num_tables, num_hashes, num_probes, seed or min_collisions, or a
        dtype other than float32 and float64.

    Notes
    -----
    Ids are stable: they continue across `add` calls (or are yours: `add(data, ids=...)`) and
    survive `remove`/`compact`; a default id is never reused.

    Thread safety: searches run in parallel from several Python threads; add, remove, compact and
    setting num_probes or min_collisions wait for running searches.
    """

    def __init__(
        self, dim: int, metric: Metric = "euclidean", dtype: DType = "float32", *,
        num_tables: int = 10, num_hashes: int = 8, bucket_width: float = 4.0,
        num_probes: int = 0, seed: int = 1, min_collisions: int = 1,
        storage: Storage = "full",
    ) -> None:
        i32 = lambda v, name: _checks.integer(v, name, "int32")  # noqa: E731
        self._impl = _core.make_e2lsh(_checks.integer(dim, "dim"), metric, _dtype_name(dtype), dict(
            num_tables=i32(num_tables, "num_tables"), num_hashes=i32(num_hashes, "num_hashes"),
            bucket_width=bucket_width, num_probes=i32(num_probes, "num_probes"),
            seed=_checks.integer(seed, "seed", "uint64"),
            min_collisions=i32(min_collisions, "min_collisions"),
        ), _storage_name(storage))

    @property
    def storage(self) -> Storage:
        """"full" (candidates scored on the full-precision rows), "sq8" or "sq4" (on 8-bit or
        4-bit codes first, the survivors re-ranked on the rows)."""
        return self._impl.storage

    @property
    def params(self) -> dict[str, Any]:
        """num_tables, num_hashes, bucket_width, num_probes, seed, min_collisions (keywords of the
        constructor)."""
        return self._impl.params()

    @property
    def num_probes(self) -> int:
        """Extra buckets per table that searches look up (multi-probe); settable, no rebuild."""
        return int(self._impl.params()["num_probes"])

    @num_probes.setter
    def num_probes(self, probes: int) -> None:
        self._impl.set_num_probes(_checks.integer(probes, "num_probes", "int32"))

    def set_num_probes(self, probes: int) -> None:
        """Same as `index.num_probes = probes`.

        Parameters
        ----------
        probes : int
            Extra buckets per table that later searches look up (0 = plain E2LSH); the tables
            are not rebuilt.

        Raises
        ------
        ValueError
            (pstable.InvalidArgument) Above 3^num_hashes - 1, below 0, above 2^20, or when
            num_tables * (probes + 1) exceeds 2^22 bucket lookups per query.
        TypeError
            A non-integer probes.
        """
        self._impl.set_num_probes(_checks.integer(probes, "num_probes", "int32"))

    @property
    def min_collisions(self) -> int:
        """Probed buckets a point must share with the query to be a candidate (1 = any);
        settable in [1, num_tables], no rebuild (collision counting)."""
        return int(self._impl.params()["min_collisions"])

    @min_collisions.setter
    def min_collisions(self, m: int) -> None:
        self._impl.set_min_collisions(_checks.integer(m, "min_collisions", "int32"))

    def set_min_collisions(self, m: int) -> None:
        """Same as `index.min_collisions = m`.

        Parameters
        ----------
        m : int
            Probed buckets a point must share with the query to be a candidate (1 = any), for
            later searches; no rebuild.

        Raises
        ------
        ValueError
            (pstable.InvalidArgument) Outside [1, num_tables].
        TypeError
            A non-integer m.
        """
        self._impl.set_min_collisions(_checks.integer(m, "min_collisions", "int32"))

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], metric: Metric | None = None,
        dtype: DType | None = None, *, mmap: bool = False, storage: Storage | None = None,
    ) -> "E2LSHIndex":
        """Reads an index written by `save`: parameters, points, removed ids, hash functions
        and tables, so that it answers exactly like the saved one.

        Parameters
        ----------
        path : str or os.PathLike
            The index file.
        metric : str or None, default None
            None takes the file's; passing it asserts it (pstable.FormatError on a mismatch).
        dtype : {"float32", "float64"}, numpy dtype or None, default None
            None takes the file's; passing it asserts it (pstable.FormatError on a mismatch).
        mmap : bool, default False, keyword-only
            True maps the file read-only and reads the rows in place (the tables and the rest,
            about 4 bytes per point per table, are copied); see `ExactIndex.load`. `remove` only
            marks points in memory; the first `add` or `compact` copies the rows out of the
            mapping (copy on first write): the file is never written.
        storage : {"full", "sq8", "sq4"} or None, default None, keyword-only
            The file's unless given: any E2LSH file loads with any storage (files hold the full
            rows; codes are rebuilt from them, and a mapped load into "sq8" or "sq4" copies the
            rows).

        Returns
        -------
        E2LSHIndex
            The index the file holds.

        Raises
        ------
        OSError
            (pstable.IoError) if the file cannot be read or mapped.
        pstable.FormatError
            (an OSError) if the file holds another kind of index (an exact index), another
            metric or dtype than those passed, or is not a valid pstable index file.
        ValueError
            An unknown storage; (pstable.InvalidArgument) an unknown metric name.
        TypeError
            A dtype other than float32 and float64, or an `mmap` that is not True or False.
        """
        index = cls.__new__(cls)
        index._impl = _load_impl(path, "e2lsh", metric, dtype, mmap, storage)
        return index

    # Pickling goes through the index file format (bytes of a saved file): the loaded index
    # keeps its removed ids, id map and tables and answers bit for bit like the original.
    def __getstate__(self) -> dict[str, Any]:
        return {"format": 1, "file": _file_bytes(self._impl)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("format") != 1:
            raise ValueError(f"unknown E2LSHIndex pickle format {state.get('format')!r}")
        self._impl = _from_file_bytes(state["file"], "e2lsh")

    def _repr_extra(self) -> str:
        p = self.params
        extra = "".join(f", {key}={p[key]!r}" for key, _ in _core.e2lsh_params_fields())
        return extra + ("" if self.storage == "full" else f", storage={self.storage!r}")
