"""Sharded indexes on a Dask cluster: one pstable index per partition, kept on its worker.

>>> from dask.distributed import Client
>>> import dask.array as da, pstable.dask
>>> client = Client("scheduler:8786")                      # any Dask deployment
>>> data = da.from_array(train, chunks=(100_000, -1))      # one shard per row partition
>>> index = pstable.dask.ShardedIndex.build(data, kind="e2lsh", metric="euclidean",
...                                         num_tables=12, num_hashes=12, bucket_width=12.6)
>>> ids, dist = index.search(queries, k=10)                # the single index's answer

Importing `pstable` never imports Dask; only this module needs `python3-dask` and
`python3-distributed`. How it works (docs/scale-out.md):

- Each shard is a `_Shard` (an ExactIndex or E2LSHIndex plus the global id of each local id),
  the result of a task run where its partition lives and held there as a Dask future. Futures,
  not Actors: a future has lineage, so when a worker dies the scheduler re-runs the tasks that
  made its shards (the load from the shard's file, then the recorded adds and removes) on
  another worker, while an Actor's state would simply be gone.
- `search` sends the queries to every shard (one task per shard, run where the shard lives); each
  returns its k best with global ids; the client merges them exactly, ordering equal distances by
  the smaller id like the single index.
- E2LSH shards share one parameter set and seed, hence the same hash functions: a point's buckets
  do not depend on which shard holds it, so with `min_collisions=1` the union of the shards'
  candidates is the single index's candidate set, and the results are the same.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

import dask.array as da
from dask.sizeof import sizeof
from distributed import Client, get_client, wait

import pstable
from . import _checks
from ._errors import Error, InvalidArgument
from ._index import _as_rows
from ._result import CountedResult, FullyCountedResult, Result

__all__ = ["ShardedIndex", "ShardLostError"]

_KINDS = ("exact", "e2lsh")
_SIMILARITIES = ("cosine", "ip", "inner_product")
_MANIFEST = "manifest.json"
_FORMAT = 1


class ShardLostError(Error, RuntimeError):
    """A shard could not be searched or changed: its worker died and Dask could not rebuild it
    (no saved file and no recomputable partition behind it). The message names the shard."""


@dataclass
class _Shard:
    """One partition's index and the global id of each of its local ids (held on a worker).

    `version` counts the changes applied; a change carries the version it expects, so that a
    change Dask re-runs on an already changed object (or on a later save of the shard) is not
    applied twice.
    """

    index: Any
    ids: np.ndarray  # global id of each local id; -1 once removed (local ids are stable)
    version: int = 0

    @property
    def size(self) -> int:
        return int(self.index.size)

    @property
    def nbytes(self) -> int:
        return int(self.index.memory_bytes) + int(self.ids.nbytes)


@sizeof.register(_Shard)
def _sizeof_shard(shard: _Shard) -> int:
    # Dask would otherwise count a few hundred bytes, and move shards around as if they were free.
    return shard.nbytes


def _make_index(kind: str, dim: int, metric: str, dtype: str, params: dict) -> Any:
    if kind == "exact":
        return pstable.ExactIndex(dim, metric=metric, dtype=dtype)
    return pstable.E2LSHIndex(dim, metric=metric, dtype=dtype, **params)


def _open_index(path: str, mmap: bool) -> Any:
    """pstable.load(path), mapped when asked. A mapped index stays changeable: it copies its rows
    out on the first add or compact."""
    return pstable.load(path, mmap=mmap)


# ---- tasks (run on the workers; plain functions, so that Dask can re-run them) ----


def _build_shard(rows: Any, ids: Any, first_id: int, kind: str, dim: int, metric: str,
                 dtype: str, params: dict) -> _Shard:
    rows = np.ascontiguousarray(rows, dtype=dtype)
    if rows.ndim != 2 or rows.shape[1] != dim:
        raise InvalidArgument(f"a partition has shape {rows.shape}, expected (n, {dim})")
    if ids is None:
        ids = np.arange(first_id, first_id + len(rows), dtype=np.int64)
    else:
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")  # local order = id order: ties break alike
        rows, ids = np.ascontiguousarray(rows[order]), ids[order]
    index = _make_index(kind, dim, metric, dtype, params)
    if len(rows):
        index.add(rows)
    return _Shard(index, ids)


def _read_manifest(directory: str) -> dict:
    with open(os.path.join(directory, _MANIFEST)) as f:
        m = json.load(f)
    if m.get("format") != _FORMAT or m.get("kind") not in _KINDS:
        raise pstable.FormatError(f"{directory}: not a pstable sharded index manifest "
                                  f"(format {m.get('format')!r}, kind {m.get('kind')!r})")
    return m


def _load_shard(directory: str, n: int, mmap: bool, uid: Optional[str] = None) -> _Shard:
    """Shard n of the index saved in `directory`, as its files are NOW: when Dask re-runs this
    after a worker died, the directory may hold a later save of the same index, whose version
    makes the replayed changes it already contains no-ops. A save of ANOTHER index there (its
    manifest's uid differs from `uid`) raises ShardLostError rather than serve foreign points."""
    m = _read_manifest(directory)
    if uid is not None and m.get("uid") != uid:
        raise ShardLostError(f"shard {n}: {directory} now holds another sharded index (uid "
                             f"{m.get('uid')!r}, not {uid!r}); the lost shard cannot be re-opened")
    s = m["shards"][n]
    path = os.path.join(directory, s["index"])
    index = _open_index(path, mmap)
    ids = np.load(os.path.join(directory, s["ids"]), allow_pickle=False)
    return _Shard(index, ids, version=s["version"])


def _shard_info(shard: _Shard) -> dict:
    return {"size": shard.size, "nbytes": shard.nbytes}


def _holds(shard: _Shard, ids: np.ndarray) -> np.ndarray:
    """Mask over `ids`: which are live points of this shard (removed ones read -1 in shard.ids)."""
    return np.isin(ids, shard.ids)


def _add_rows(shard: _Shard, version: int, rows: np.ndarray, ids: np.ndarray) -> _Shard:
    if shard.version != version:  # already applied (Dask re-ran this task on the changed object)
        return shard
    order = np.argsort(ids, kind="stable")
    shard.index.add(np.ascontiguousarray(rows[order]))
    shard.ids = np.concatenate([shard.ids, ids[order]])
    shard.version += 1
    return shard


def _remove_ids(shard: _Shard, version: int, ids: np.ndarray) -> _Shard:
    if shard.version != version:
        return shard
    local = np.flatnonzero(np.isin(shard.ids, ids))
    if len(local):  # local ids stay stable in both index kinds: mark them gone
        shard.index.remove(local)
        shard.ids = shard.ids.copy()
        shard.ids[local] = -1
    shard.version += 1
    return shard


def _compact(shard: _Shard, version: int) -> _Shard:
    if shard.version != version:
        return shard
    if shard.index.num_removed:
        shard.index.compact()  # local ids are unchanged, and so is shard.ids
    shard.version += 1
    return shard


def _save_shard(shard: _Shard, index_path: str, ids_path: str) -> int:
    shard.index.save(index_path)
    with open(ids_path, "wb") as f:
        np.save(f, shard.ids, allow_pickle=False)
    return shard.size


def _search_shard(shard: _Shard, queries: np.ndarray, k: int, num_threads: int) -> tuple:
    """This shard's k best (global ids), padded with id -1 when it holds fewer than k points."""
    n, size = len(queries), shard.size
    similarity = shard.index.metric in _SIMILARITIES
    ids = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), -np.inf if similarity else np.inf, dtype=shard.index.dtype)
    visited = np.zeros(n, dtype=np.int64)
    probed = np.zeros(n, dtype=np.int64)
    if size == 0:
        return ids, dist, visited, probed
    kk = min(k, size)
    local, d, visited, probed = shard.index.search(
        queries, kk, num_threads, return_counts=True, return_probed=True)
    found = local >= 0
    ids[:, :kk] = np.where(found, shard.ids[np.where(found, local, 0)], -1)
    dist[:, :kk] = d
    return ids, dist, np.asarray(visited), np.asarray(probed)


# ---- the client side ----


def _merge(parts: Sequence[tuple], k: int, similarity: bool) -> tuple:
    """Exact top k of the shards' top k: by distance (similarity descending), ties by id."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    dist = np.concatenate([p[1] for p in parts], axis=1)
    key = -dist if similarity else dist
    tie = np.where(ids < 0, np.iinfo(np.int64).max, ids)  # padding after real ids
    order = np.lexsort((tie, key), axis=1)[:, :k]
    visited = np.sum([p[2] for p in parts], axis=0).astype(np.int64)
    probed = np.max([p[3] for p in parts], axis=0).astype(np.int64)
    return (np.take_along_axis(ids, order, axis=1), np.take_along_axis(dist, order, axis=1),
            visited, probed)


def _split_rows(data: Any, dtype: str) -> tuple[list, list[int], Any]:
    """(partitions, their lengths, dim): from a dask array (row chunks) or a list of arrays."""
    if isinstance(data, da.Array):
        if data.ndim != 2:
            raise InvalidArgument(f"data must be a 2-D dask array of rows, got shape {data.shape}")
        data = data.rechunk({1: -1})
        if any(np.isnan(c) for c in data.chunks[0]):
            data.compute_chunk_sizes()
        return list(data.to_delayed().ravel()), [int(c) for c in data.chunks[0]], int(data.shape[1])
    if isinstance(data, np.ndarray):
        raise TypeError("data must be a dask array or a list of numpy arrays (one per shard); "
                        "wrap a numpy array with dask.array.from_array(x, chunks=(rows, -1))")
    parts = [np.ascontiguousarray(p, dtype=dtype) for p in data]
    if not parts:
        raise InvalidArgument("data holds no partition")
    for p in parts:
        if p.ndim != 2 or p.shape[1] != parts[0].shape[1]:
            raise InvalidArgument(f"every partition must be 2-D with {parts[0].shape[1]} columns, "
                                  f"got shape {p.shape}")
    return parts, [len(p) for p in parts], parts[0].shape[1]


def _split_ids(ids: Any, lengths: list[int]) -> list:
    if ids is None:
        return [None] * len(lengths)
    if isinstance(ids, da.Array):
        ids = ids.compute()
    a = _checks.id_array(ids)
    if len(a) != sum(lengths):
        raise InvalidArgument(f"ids has {len(a)} entries for {sum(lengths)} rows")
    _check_new_ids(a)
    return np.split(a, np.cumsum(lengths)[:-1])


def _check_new_ids(a: np.ndarray) -> None:
    if len(a) and a.min() < 0:
        raise InvalidArgument(f"ids must be >= 0 (-1 pads results), got {int(a.min())}")
    if len(np.unique(a)) != len(a):
        raise InvalidArgument("ids must be distinct")


def _sample(parts: list, lengths: list[int], max_points: int, seed: int, client: Client) -> np.ndarray:
    """Up to max_points rows drawn evenly over the partitions, gathered on the client."""
    total = sum(lengths)
    take = [min(n, int(np.ceil(max_points * n / total))) for n in lengths]
    rng = np.random.default_rng(seed)
    picks = [np.sort(rng.choice(n, t, replace=False)) for n, t in zip(lengths, take)]
    futures = client.map(lambda rows, pick: np.asarray(rows)[pick], parts, picks, pure=False)
    return np.concatenate(client.gather(futures))[:max_points]


class ShardedIndex:
    """A pstable index split into shards held by the workers of a Dask cluster.

    Build with `ShardedIndex.build` or open with `ShardedIndex.load`. Global ids are row numbers
    of the data (continuing across `add`) or the ids the caller passes. Results are those of the
    single-machine index over the same points: identical for kind="exact"; identical for
    kind="e2lsh" when min_collisions == 1 (with min_collisions > 1 a shard holding fewer than k
    points that collide often enough tops up from lower counts on its own, so the shards see a
    superset of the single index's candidates and every returned distance is at most the single
    index's; see docs/scale-out.md). Not thread-safe: one caller at a time.
    """

    def __init__(self, *, client: Client, shards: list, kind: str, dim: int, metric: str,
                 dtype: str, params: dict, next_id: Optional[int], info: list,
                 uid: Optional[str] = None) -> None:
        self._client, self._shards, self.kind, self.dim = client, shards, kind, dim
        self.metric, self.dtype, self._params = metric, dtype, dict(params)
        self._next_id, self._info = next_id, info
        # Names this index in saved manifests, so that a shard re-opened after a worker died
        # never comes from another index saved to the same directory.
        self._uid = uid or uuid.uuid4().hex
        self._versions = [0] * len(shards)

    # -- construction --

    @classmethod
    def build(cls, data: Any, kind: str = "exact", metric: str = "euclidean",
              client: Optional[Client] = None, *, ids: Any = None, dtype: str = "float32",
              tune: Union[None, str, dict] = None, **params: Any) -> "ShardedIndex":
        """One index per partition of `data`, built on the worker holding the partition.

        `data`: a 2-D dask array (one shard per chunk of rows) or a list of numpy arrays (one
        shard each, scattered to the workers). `ids`: global ids (one per row, distinct, >= 0);
        default the row numbers. `params`: E2LSHIndex keywords for kind="e2lsh", the same for
        every shard (same seed: same hash functions). `tune="auto"` (or a dict of `pstable.tune`
        keywords) first tunes E2LSH parameters on a sample of up to 20,000 rows drawn from every
        partition, with min_collisions fixed to 1 unless `collision_thresholds` is given; explicit
        `params` override the tuned ones. `client`: default the current Dask client.
        """
        if kind not in _KINDS:
            raise InvalidArgument(f"kind must be 'exact' or 'e2lsh', got {kind!r}")
        if kind == "exact" and (params or tune):
            raise InvalidArgument(f"kind='exact' takes no E2LSH parameters, got {sorted(params)}"
                                  f"{' and tune' if tune else ''}")
        client = client or get_client()
        dtype = np.dtype(dtype).name
        parts, lengths, dim = _split_rows(data, dtype)
        id_parts = _split_ids(ids, lengths)
        if isinstance(parts[0], np.ndarray):
            parts = client.scatter(parts, hash=False)
        else:
            parts = client.compute(parts)
        if kind == "e2lsh":
            if tune:
                options = {} if tune == "auto" else dict(tune)
                options.setdefault("collision_thresholds", (1,))
                options.setdefault("max_points", 20000)
                sample = _sample(parts, lengths, options["max_points"], options.get("seed", 1),
                                 client)
                tuned = pstable.tune(sample, metric=metric, dtype=dtype, **options)
                params = {**tuned.params, **params}
            # Checked by the constructor; defaults filled in; other accepted keywords (the
            # candidate storage) kept as given.
            params = {**params, **pstable.E2LSHIndex(dim, metric=metric, dtype=dtype, **params).params}
        firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist()
        shards = [client.submit(_build_shard, p, i, f, kind, dim, metric, dtype, params, pure=False)
                  for p, i, f in zip(parts, id_parts, firsts)]
        index = cls(client=client, shards=shards, kind=kind, dim=dim, metric=metric, dtype=dtype,
                    params=params, next_id=None if ids is not None else sum(lengths), info=[])
        index._check(shards, "build")
        index._refresh()
        return index

    @classmethod
    def load(cls, directory: Union[str, os.PathLike], client: Optional[Client] = None, *,
             mmap: bool = True) -> "ShardedIndex":
        """Opens a directory written by `save`: each worker opens its shards' files with
        `pstable.load` (as read-only mappings when `mmap` and this pstable can map files; a
        mapped index copies its rows out on its first add or compact). The directory must be
        readable by every worker at the same path. If a worker dies, Dask re-opens its shards
        from their files on another worker (and replays later adds and removes)."""
        client = client or get_client()
        directory = os.path.abspath(os.fspath(directory))
        m = _read_manifest(directory)
        workers = list(client.scheduler_info()["workers"])
        shards = []
        for n, s in enumerate(m["shards"]):
            where = {"workers": [workers[n % len(workers)]], "allow_other_workers": True} \
                if workers else {}
            shards.append(client.submit(_load_shard, directory, n, mmap, m.get("uid"), pure=False,
                                        **where))
        index = cls(client=client, shards=shards, kind=m["kind"], dim=m["dim"], metric=m["metric"],
                    dtype=m["dtype"], params=m["params"], next_id=m["next_id"], info=[],
                    uid=m.get("uid"))
        index._versions = [s["version"] for s in m["shards"]]
        index._check(shards, "load")
        index._refresh()
        return index

    # -- properties --

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def size(self) -> int:
        """Points searches can return (added minus removed), over all shards."""
        return sum(i["size"] for i in self._info)

    def __len__(self) -> int:
        return self.size

    @property
    def shard_sizes(self) -> list[int]:
        return [i["size"] for i in self._info]

    @property
    def params(self) -> dict:
        """E2LSH parameters every shard uses ({} for exact)."""
        return dict(self._params)

    @property
    def memory_bytes(self) -> int:
        """Bytes the shards hold on the workers."""
        return sum(i["nbytes"] for i in self._info)

    def __repr__(self) -> str:
        return (f"ShardedIndex(kind={self.kind!r}, dim={self.dim}, metric={self.metric!r}, "
                f"dtype={self.dtype!r}, shards={self.num_shards}, size={self.size})")

    # -- search --

    def search(self, queries: npt.ArrayLike, k: int, num_threads: int = 1,
               return_counts: bool = False, *, return_probed: bool = False,
               timeout: Optional[float] = None,
               ) -> Union[Result, CountedResult, FullyCountedResult]:
        """What the single index's `search` returns: a `pstable.Result` that unpacks as
        `(ids, distances)` (n x k, best first) and records the metric, plus `visited` (distance
        computations summed over the shards) with return_counts, plus `probed` (buckets looked up
        per query, the same in every shard; 0 for kind="exact") with return_probed.

        Every shard searches the whole batch with `num_threads` threads and returns its k best;
        the merge is exact, equal distances ordered by the smaller id. Raises ShardLostError
        naming the shard if a shard could not be searched (its worker died and Dask could not
        re-open it): never a partial answer.
        """
        q = queries.compute() if isinstance(queries, da.Array) else queries
        q, single = _as_rows(q, np.dtype(self.dtype), "queries")
        k = _checks.integer(k, "k")
        num_threads = _checks.integer(num_threads, "num_threads", "int32")
        if q.shape[1] != self.dim:
            raise pstable.DimensionMismatch(
                f"queries have {q.shape[1]} columns, the index was built with {self.dim}")
        if k < 1:
            raise InvalidArgument(f"k must be >= 1, got {k}")
        if self.size == 0:
            raise InvalidArgument("the index is empty: add points before searching")
        # A random key: equal batches scattered back to back would share a hashed key, and the
        # release of the previous one could drop the data under the new search.
        qf = self._client.scatter(q, broadcast=len(self._shards) > 1, hash=False)
        tasks = [self._client.submit(_search_shard, s, qf, k, num_threads, pure=False)
                 for s in self._shards]
        parts = self._gather(tasks, "search", timeout)
        ids, dist, visited, probed = _merge(parts, k, self.metric in _SIMILARITIES)
        if single:
            ids, dist, visited, probed = ids[0], dist[0], int(visited[0]), int(probed[0])
        out: tuple = (ids, dist)
        if return_counts:
            out += (visited,)
        if return_probed:
            out += (probed,)
        return pstable.Result._of(out, self.metric, visited, probed)

    def _gather(self, tasks: list, what: str, timeout: Optional[float] = None) -> list:
        """Results of one task per shard, or an error naming the first shard that failed."""
        self._check(tasks, what, timeout)
        return self._client.gather(tasks)

    def _check(self, tasks: list, what: str, timeout: Optional[float] = None) -> None:
        """Waits for one task per shard (leaving its result on the worker); raises the task's own
        pstable error, or ShardLostError naming the first shard whose task was lost."""
        try:
            wait(tasks, timeout=timeout)
        except CancelledError:
            pass  # a task lost its input (the shard): named below
        except TimeoutError as e:
            late = [n for n, t in enumerate(tasks) if t.status != "finished"]
            raise ShardLostError(f"{what}: shard(s) {late} gave no answer within {timeout} s") from e
        for n, t in enumerate(tasks):
            if t.status == "finished":
                continue
            exc = t.exception() if t.status == "error" else None
            if isinstance(exc, (pstable.Error, ValueError, TypeError)):
                raise exc  # the shard's own answer (bad input), not a fault
            reason = f"{type(exc).__name__}: {exc}" if exc is not None else f"task {t.status}"
            raise ShardLostError(
                f"{what}: shard {n} of {len(tasks)} was lost ({reason}); its worker died and "
                "Dask could not rebuild it. Save the index and open it with ShardedIndex.load, "
                "so that lost shards re-open from their files") from exc

    # -- changes --

    def add(self, data: npt.ArrayLike, ids: Any = None, *, shard: Optional[int] = None) -> None:
        """Adds rows: to a new shard (default; a dask array or list gives one new shard per
        partition, built like `build`) or appended to existing shard number `shard`.

        Ids: the next row numbers when the index was built without ids; otherwise `ids` must be
        given, distinct, >= 0 and not yet in the index."""
        if isinstance(data, (da.Array, list)):
            if shard is not None:
                raise InvalidArgument("shard= takes one numpy array of rows")
            parts, lengths, dim = _split_rows(data, self.dtype)
        else:
            rows, _ = _as_rows(data, np.dtype(self.dtype), "data")
            parts, lengths, dim = [rows], [len(rows)], rows.shape[1]
        if dim != self.dim:
            raise pstable.DimensionMismatch(f"data has {dim} columns, the index has {self.dim}")
        total = sum(lengths)
        if self._next_id is not None:
            if ids is not None:
                raise InvalidArgument("this index numbers its rows; ids= is not accepted")
            new_ids = np.arange(self._next_id, self._next_id + total, dtype=np.int64)
        else:
            if ids is None:
                raise InvalidArgument("this index was built with ids=: pass ids for the new rows")
            new_ids = np.concatenate(_split_ids(ids, lengths))
            held = self._gather([self._client.submit(_holds, s, new_ids, pure=False)
                                 for s in self._shards], "add")
            clash = new_ids[np.any(held, axis=0)] if held else new_ids[:0]
            if len(clash):
                raise InvalidArgument(f"ids already in the index: {clash[:10].tolist()}")
        id_parts = np.split(new_ids, np.cumsum(lengths)[:-1])
        if shard is not None:
            n = _checks.integer(shard, "shard")
            if not 0 <= n < len(self._shards):
                raise InvalidArgument(f"shard must be in [0, {len(self._shards) - 1}], got {n}")
            self._change(n, _add_rows, parts[0], id_parts[0])
        else:
            futures = self._client.scatter(parts, hash=False) if isinstance(parts[0], np.ndarray) \
                else self._client.compute(parts)
            new = [self._client.submit(_build_shard, p, i, 0, self.kind, self.dim, self.metric,
                                       self.dtype, self._params, pure=False)
                   for p, i in zip(futures, id_parts)]
            self._check(new, "add")
            self._shards += new
            self._versions += [0] * len(new)
        if self._next_id is not None:
            self._next_id += total
        self._refresh()

    def remove(self, ids: Union[int, npt.ArrayLike]) -> None:
        """Removes points by global id. Every id is checked first (in the index, not removed,
        no repeats); on ValueError nothing is removed."""
        a = _checks.id_array(ids)
        if len(np.unique(a)) != len(a):
            raise InvalidArgument("ids to remove must be distinct")
        held = self._gather([self._client.submit(_holds, s, a, pure=False)
                             for s in self._shards], "remove")
        missing = a[~np.any(held, axis=0)] if held else a
        if len(missing):
            raise InvalidArgument(f"ids not in the index (never added or already removed): "
                                  f"{missing[:10].tolist()}")
        for n, mask in enumerate(held):
            if mask.any():
                self._change(n, _remove_ids, a[mask])
        self._refresh()

    def compact(self) -> None:
        """Frees the memory of removed points in every shard; ids do not change."""
        for n in range(len(self._shards)):
            self._change(n, _compact)
        self._refresh()

    def _change(self, n: int, task: Any, *args: Any) -> None:
        new = self._client.submit(task, self._shards[n], self._versions[n], *args, pure=False)
        self._check([new], f"shard {n}")
        self._shards[n] = new
        self._versions[n] += 1

    def _refresh(self) -> None:
        self._info = self._gather([self._client.submit(_shard_info, s, pure=False)
                                   for s in self._shards], "info")

    # -- files --

    def save(self, directory: Union[str, os.PathLike]) -> None:
        """Writes one index file and one id file (.npy) per shard plus `manifest.json` into
        `directory`, which every worker and the client must see at the same path (a shared
        file system). Atomic: everything is written into a temporary sibling directory that is
        then renamed to `directory` (a previous one is renamed away first, then deleted), so a
        crash leaves the old or the new index, never a mix."""
        directory = os.path.abspath(os.fspath(directory))
        parent = os.path.dirname(directory)
        tmp = os.path.join(parent, f".{os.path.basename(directory)}.tmp-{uuid.uuid4().hex}")
        os.makedirs(tmp)
        try:
            names = [(f"shard-{n:05d}.pst", f"shard-{n:05d}.ids.npy") for n in range(len(self._shards))]
            tasks = [self._client.submit(_save_shard, s, os.path.join(tmp, a), os.path.join(tmp, b),
                                         pure=False)
                     for s, (a, b) in zip(self._shards, names)]
            sizes = self._gather(tasks, "save")
            for a, b in names:
                if not (os.path.exists(os.path.join(tmp, a)) and os.path.exists(os.path.join(tmp, b))):
                    raise pstable.IoError(f"the workers wrote {a} where the client cannot see it: "
                                          f"{directory} must be on a file system shared by all")
            manifest = {"format": _FORMAT, "uid": self._uid, "kind": self.kind, "dim": self.dim,
                        "metric": self.metric, "dtype": self.dtype, "params": self._params,
                        "next_id": self._next_id,
                        "shards": [{"index": a, "ids": b, "size": s, "version": v}
                                   for (a, b), s, v in zip(names, sizes, self._versions)]}
            with open(os.path.join(tmp, _MANIFEST), "w") as f:
                json.dump(manifest, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            old = None
            if os.path.exists(directory):
                old = os.path.join(parent, f".{os.path.basename(directory)}.old-{uuid.uuid4().hex}")
                os.rename(directory, old)
            os.rename(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old:
            shutil.rmtree(old, ignore_errors=True)

    def shard_workers(self) -> list[list[str]]:
        """For each shard, the addresses of the workers holding it."""
        who = self._client.who_has(self._shards)
        return [sorted(who.get(s.key, ())) for s in self._shards]
