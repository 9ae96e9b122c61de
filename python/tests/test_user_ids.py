"""add(data, ids=...): ids of the caller's choosing on both indexes, against a brute-force oracle
and against an index with default ids (which names the same points by row number)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import pstable
from conftest import brute_force

DIM = 6
N = 400


def make(kind, metric="euclidean"):
    if kind == "exact":
        return pstable.ExactIndex(DIM, metric=metric)
    return pstable.E2LSHIndex(DIM, metric=metric, num_tables=12, num_hashes=3,
                              bucket_width=8.0 if metric != "cosine" else 1.0, num_probes=4, seed=5)


def scattered_ids(rng, n):
    """Distinct ids far apart (up to ~2**61) and in no order."""
    ids = (np.int64(1) << 40) + np.arange(n, dtype=np.int64) * 5_000_000_011
    return rng.permutation(ids)


@pytest.fixture
def setup(rng):
    data = rng.standard_normal((N, DIM)).astype(np.float32)
    queries = rng.standard_normal((30, DIM)).astype(np.float32)
    return data, queries, scattered_ids(rng, N)


def scores(data, queries, metric):
    if metric == "manhattan":
        return np.abs(queries[:, None, :].astype(np.float64) - data[None, :, :]).sum(-1)
    return brute_force(data, queries, metric)


def named(rows, ids):
    """Row numbers (padding -1 kept) as user ids."""
    return np.where(rows < 0, -1, ids[np.maximum(rows, 0)])


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_user_ids_name_the_points_everywhere(kind, metric, setup, tmp_path):
    data, queries, ids = setup
    index, twin = make(kind, metric), make(kind, metric)
    index.add(data[:250], ids=ids[:250])
    index.add(data[250:], ids[250:])
    twin.add(data)
    assert len(index) == N and index.next_id == int(ids.max()) + 1
    np.testing.assert_array_equal(index.ids(), ids)  # insertion order
    assert all(int(i) in index for i in ids[:20]) and 0 not in index and int(ids[0]) + 1 not in index

    def check(idx, live_rows):
        for q in (queries[:3], queries):  # one-by-one and batch paths
            got, ref = idx.search(q, 8), twin.search(q, 8)
            np.testing.assert_array_equal(got.ids, named(ref.ids, ids))
            np.testing.assert_array_equal(got.distances, ref.distances)
        if kind == "exact":  # brute force over the live rows, named by their ids
            score = scores(data, queries, metric)[:, live_rows]
            best = live_rows[np.argsort(score, axis=1, kind="stable")[:, :8]]
            np.testing.assert_array_equal(idx.search(queries, 8).ids, ids[best])
        radius = 0.3 if metric == "cosine" else 2.5
        got, ref = idx.search_radius(queries, radius), twin.search_radius(queries, radius)
        np.testing.assert_array_equal(got.offsets, ref.offsets)
        np.testing.assert_array_equal(got.ids, ids[ref.ids])
        # Filters speak ids: a mask over (huge) ids cannot reach them, id lists and callables can.
        odd_rows = live_rows[live_rows % 2 == 1]
        ref = twin.search(queries, 5, filter=odd_rows)
        for f in (ids[odd_rows], list(ids[odd_rows][::-1]),
                  lambda held: np.isin(held, ids[odd_rows])):
            np.testing.assert_array_equal(idx.search(queries, 5, filter=f).ids, named(ref.ids, ids))
        assert np.all(idx.search(queries, 3, filter=np.ones(1000, dtype=bool)).ids == -1)

    live = np.arange(N)
    check(index, live)
    removed = np.arange(0, N, 4)
    index.remove(ids[removed])
    twin.remove(removed)
    live = np.setdiff1d(live, removed)
    assert int(ids[0]) not in index
    np.testing.assert_array_equal(index.ids(), ids[live])
    with pytest.raises(ValueError, match="already removed"):
        index.remove(int(ids[0]))
    check(index, live)

    path = str(tmp_path / "ids.pst")
    index.save(path)
    for loaded in (pstable.load(path), pstable.load(path, mmap=True), pickle.loads(pickle.dumps(index))):
        np.testing.assert_array_equal(loaded.ids(), ids[live])
        check(loaded, live)
    index.compact()
    check(index, live)

    # After the compaction a removed id may come back; defaults continue past the largest id.
    index.add(data[:1], ids=[ids[0]])
    assert int(ids[0]) in index
    top = index.next_id
    index.add(data[1:3])
    np.testing.assert_array_equal(index.ids()[-2:], [top, top + 1])


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
def test_bad_ids_are_refused_by_name_and_change_nothing(kind, rng):
    data = rng.standard_normal((10, DIM)).astype(np.float32)
    index = make(kind)
    index.add(data[:4], ids=np.array([10, 30, 20, 40], dtype=np.uint8))
    index.remove(30)
    before = index.search(data, 3)
    cases = [
        ([1, -5], ValueError, "got -5"),
        ([2**62], ValueError, r"\[0, 2\^62\)"),
        ([2**63], ValueError, "not an id"),
        ([2**70], ValueError, None),
        ([1, 2, 1], ValueError, "id 1 appears twice"),
        ([5, 20], ValueError, "id 20 is already in the index"),
        ([30], ValueError, "removed but is held until compact"),
        ([1.5], TypeError, "integers"),
        ([[1], [2]], ValueError, "1-D"),
        ([1, 2, 3], ValueError, "3 ids"),
    ]
    for bad, error, message in cases:
        rows = data[:2] if message == "3 ids" else data[:len(np.asarray(bad, dtype=object).reshape(-1))]
        with pytest.raises(error, match=message):
            index.add(rows, ids=bad)
        assert len(index) == 3 and index.next_id == 41
        after = index.search(data, 3)
        np.testing.assert_array_equal(after.ids, before.ids)
    index.add(data[4], ids=7)  # one point, one id
    assert 7 in index and index.next_id == 41
    index.add(np.zeros((0, DIM), dtype=np.float32), ids=[])
    assert len(index) == 4


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
@pytest.mark.parametrize("batch", [1, 20])
def test_equal_distances_order_by_id_not_insertion(kind, batch):
    data = np.array([[1.0, 2.0, 3.0]] * 6 + [[40.0, 40.0, 40.0]], dtype=np.float32)
    index = pstable.ExactIndex(3) if kind == "exact" else pstable.E2LSHIndex(
        3, num_tables=4, num_hashes=2, bucket_width=4.0, seed=1)
    index.add(data, ids=[60, 50, 40, 30, 20, 10, 5])
    ids, _ = index.search(np.repeat(data[:1], batch, axis=0), 4)
    np.testing.assert_array_equal(ids, np.tile([10, 20, 30, 40], (batch, 1)))
