"""Range search (search_radius) against a numpy brute force, for both index kinds."""

from __future__ import annotations

import numpy as np
import pytest

import pstable

DIM = 11


def values(data, queries, metric):
    """(num_queries x num_points) values as the index reports them, in float64."""
    x, q = data.astype(np.float64), queries.astype(np.float64)
    if metric == "euclidean":
        return np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    if metric == "manhattan":
        return np.abs(q[:, None, :] - x[None, :, :]).sum(-1)
    if metric == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    return q @ x.T


def similarity(metric):
    return metric in ("cosine", "ip")


def truth(v, radius, metric):
    """Per query: the ids in range, best first, ties by id."""
    out = []
    for row in v:
        ids = np.flatnonzero(row >= radius if similarity(metric) else row <= radius)
        key = -row[ids] if similarity(metric) else row[ids]
        out.append(ids[np.lexsort((ids, key))])
    return out


def midway_radius(v, fraction, metric):
    """A radius halfway between two values, with about `fraction` of the points in range."""
    s = np.sort(v.ravel())
    if similarity(metric):
        s = s[::-1]
    at = int(fraction * (len(s) - 1))
    return float((s[at] + s[at + 1]) / 2)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip", "manhattan"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 30])
def test_exact_equals_brute_force(metric, dtype, batch, rng):
    data = rng.standard_normal((400, DIM)).astype(dtype)
    queries = rng.standard_normal((batch, DIM)).astype(dtype)
    index = pstable.ExactIndex(DIM, metric=metric, dtype=dtype)
    index.add(data)
    v = values(data, queries, metric)
    radius = midway_radius(v, 0.05, metric)
    offsets, ids, distances, visited = index.search_radius(queries, radius, return_counts=True)
    assert offsets.dtype == np.int64 and ids.dtype == np.int64
    assert distances.dtype == np.dtype(dtype)
    assert offsets.shape == (batch + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
    np.testing.assert_array_equal(visited, np.full(batch, 400))
    expected = truth(v, radius, metric)
    tol = 2e-5 if dtype == "float32" else 1e-12
    for i in range(batch):
        got = ids[offsets[i]:offsets[i + 1]]
        np.testing.assert_array_equal(got, expected[i])
        np.testing.assert_allclose(distances[offsets[i]:offsets[i + 1]], v[i, got],
                                   rtol=tol, atol=tol)
    assert len(ids) > 0
    again = index.search_radius(queries, radius, num_threads=2)
    for a, b in zip(again, (offsets, ids, distances)):
        np.testing.assert_array_equal(a, b)


def test_exact_boundary_and_ties():
    # Integer grid: distances are exact, a radius of 1 is met exactly by many points.
    grid = np.array([[i % 3, (i // 3) % 3] for i in range(27)], dtype=np.float32)
    index = pstable.ExactIndex(2)
    index.add(grid)
    offsets, ids, distances = index.search_radius([1.0, 1.0], 1.0)
    # The centre (3 copies: ids 4, 13, 22) then its 4 neighbours x 3 copies, by id.
    assert offsets.tolist() == [0, 15]
    assert ids[:3].tolist() == [4, 13, 22]
    assert distances[:3].tolist() == [0, 0, 0]
    assert ids[3:].tolist() == sorted(ids[3:].tolist())
    assert distances[3:].tolist() == [1.0] * 12


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_e2lsh_is_a_subset_with_high_recall(metric, rng):
    dim = 5  # few dimensions: the 1% radius is well below the typical distance
    data = rng.standard_normal((2000, dim)).astype(np.float32)
    queries = rng.standard_normal((40, dim)).astype(np.float32)
    v = values(data, queries, metric)
    radius = midway_radius(v, 0.01, metric)
    # Cosine hashes unit vectors: the radius as a distance between them is sqrt(2 - 2 cos).
    r = np.sqrt(2 - 2 * radius) if metric == "cosine" else radius
    k, w = (6, 8 * r) if metric == "manhattan" else (8, 4 * r)  # docs/e2lsh.md#range-search
    index = pstable.E2LSHIndex(dim, metric=metric, num_tables=20, num_hashes=k, bucket_width=w)
    index.add(data)
    offsets, ids, distances, visited, probed = index.search_radius(
        queries, radius, return_counts=True, return_probed=True)
    expected = truth(v, radius, metric)
    found = total = 0
    for i in range(len(queries)):
        got = ids[offsets[i]:offsets[i + 1]]
        assert set(got.tolist()) <= set(expected[i].tolist())
        d = distances[offsets[i]:offsets[i + 1]]
        key = -d if similarity(metric) else d
        # Best first by the reported (float32) values, ties by id.
        np.testing.assert_array_equal(np.lexsort((got, key)), np.arange(len(got)))
        np.testing.assert_allclose(d, v[i, got], rtol=2e-5, atol=2e-5)
        found += len(got)
        total += len(expected[i])
    assert total > 0 and found / total >= 0.9
    assert np.all(probed == 20)
    assert visited.mean() < 0.5 * len(data)
    # range_recall against ExactIndex says the same (the results are a subset of the truth).
    exact = pstable.ExactIndex(dim, metric=metric)
    exact.add(data)
    lsh = index.search_radius(queries, radius)
    assert pstable.range_recall(lsh, exact.search_radius(queries, radius)) == pytest.approx(found / total)


def test_range_recall_counts_true_pairs_over_all_queries():
    index = pstable.ExactIndex(1, dtype="float64")
    index.add(np.array([[0.0], [1.0], [2.0], [10.0]]))
    queries = np.array([[0.0], [10.0], [100.0]])  # truth {0, 1}, {3}, nothing
    truth = index.search_radius(queries, 1.5)
    assert len(truth.ids) == 3 and pstable.range_recall(truth, truth) == 1.0
    partial = index.search_radius(queries, 1.5, filter=[0, 2, 3])
    assert pstable.range_recall(partial, truth) == pytest.approx(2 / 3)
    none = index.search_radius(queries, 1.5, filter=np.zeros(4, dtype=bool))
    assert pstable.range_recall(none, truth) == 0.0 and pstable.range_recall(none, none) == 1.0
    with pytest.raises(ValueError, match="queries"):
        pstable.range_recall(index.search_radius(queries[:2], 1.5), truth)
    cosine = pstable.ExactIndex(1, metric="cosine", dtype="float64")
    cosine.add(np.array([[1.0], [2.0], [3.0], [4.0]]))
    with pytest.raises(ValueError, match="compare one metric"):
        pstable.range_recall(cosine.search_radius(queries + 1.0, 0.5), truth)
    with pytest.raises(TypeError, match="RangeResult"):
        pstable.range_recall(index.search(queries, 2), truth)


def test_e2lsh_filter(rng):
    data = rng.standard_normal((500, DIM)).astype(np.float32)
    queries = rng.standard_normal((10, DIM)).astype(np.float32)
    index = pstable.E2LSHIndex(DIM, num_tables=10, num_hashes=3, bucket_width=8.0)
    index.add(data)
    offsets, ids, _ = index.search_radius(queries, 3.5)
    even = np.arange(0, 500, 2)
    f_offsets, f_ids, _ = index.search_radius(queries, 3.5, filter=even)
    for i in range(len(queries)):
        all_i = ids[offsets[i]:offsets[i + 1]]
        np.testing.assert_array_equal(f_ids[f_offsets[i]:f_offsets[i + 1]], all_i[all_i % 2 == 0])
    assert len(f_ids) > 0


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
def test_bad_input(kind, rng):
    index = (pstable.ExactIndex(4) if kind == "exact" else pstable.E2LSHIndex(4))
    index.add(rng.standard_normal((20, 4)))
    q = rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match="radius must be >= 0"):
        index.search_radius(q, -0.1)
    with pytest.raises(pstable.InvalidArgument, match="NaN"):
        index.search_radius(q, float("nan"))
    with pytest.raises(TypeError, match="radius must be a real number"):
        index.search_radius(q, "1")
    with pytest.raises(TypeError, match="radius must be a real number"):
        index.search_radius(q, True)
    with pytest.raises(pstable.DimensionMismatch):
        index.search_radius(rng.standard_normal((2, 5)), 1.0)
    with pytest.raises(pstable.InvalidData):
        index.search_radius([[np.nan, 0, 0, 0]], 1.0)
    with pytest.raises(ValueError):
        index.search_radius(q, 1.0, num_threads=-1)
    assert index.size == 20


def test_similarity_threshold_may_be_negative_and_empty_index_returns_nothing(rng):
    index = pstable.ExactIndex(4, metric="cosine")
    offsets, ids, _ = index.search_radius(rng.standard_normal((3, 4)), 0.5)
    assert offsets.tolist() == [0, 0, 0, 0] and len(ids) == 0
    index.add(rng.standard_normal((20, 4)))
    offsets, ids, distances = index.search_radius(rng.standard_normal((3, 4)), -1.0)
    assert offsets.tolist() == [0, 20, 40, 60]
    assert np.all(np.diff(distances[:20]) <= 0)  # best (largest similarity) first


def test_range_result_records_metric_and_rows(rng):
    import pickle

    data = rng.standard_normal((200, DIM)).astype(np.float32)
    index = pstable.ExactIndex(DIM, metric="cosine")
    index.add(data)
    r = index.search_radius(data[:3], 0.2, return_counts=True)
    assert isinstance(r, pstable.RangeResult) and isinstance(r, tuple) and len(r) == 4
    offsets, ids, sims, visited = r
    assert r.metric == "cosine" and r.offsets is offsets and r.ids is ids
    np.testing.assert_array_equal(r.visited, visited)
    for i in range(3):
        row_ids, row_sims = r.row(i)
        np.testing.assert_array_equal(row_ids, ids[offsets[i]:offsets[i + 1]])
        np.testing.assert_array_equal(row_sims, sims[offsets[i]:offsets[i + 1]])
        assert i in row_ids.tolist() and (row_sims >= 0.2).all()  # each point is its own match
    back = pickle.loads(pickle.dumps(r))
    assert back.metric == "cosine" and len(back) == 4
    np.testing.assert_array_equal(back.ids, ids)
    assert "RangeResult(metric='cosine', queries=3" in repr(r)
