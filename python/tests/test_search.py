"""Search results against a numpy brute force, over metric x dtype x batch size."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import pstable
from conftest import DTYPES, METRICS, brute_force, check_against_oracle, to_value

DIM = 27  # not a multiple of any SIMD width: exercises the scalar tails


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 7, 100])
def test_matches_brute_force(metric, dtype, batch, rng):
    data = rng.standard_normal((600, DIM)).astype(dtype)
    queries = rng.standard_normal((batch, DIM)).astype(dtype)
    index = pstable.ExactIndex(DIM, metric=metric, dtype=dtype)
    index.add(data[:250])
    index.add(data[250:])  # ids continue across adds
    k = 10
    ids, distances, visited = index.search(queries, k, return_counts=True)
    check_against_oracle(data, queries, ids, distances, k, metric, dtype)
    expected = np.argsort(brute_force(data, queries, metric), axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ids, expected)  # continuous data: no ties
    np.testing.assert_array_equal(visited, np.full(batch, 600))
    # More threads, same answer.
    ids2, distances2 = index.search(queries, k, num_threads=2)
    np.testing.assert_array_equal(ids2, ids)
    np.testing.assert_array_equal(distances2, distances)


@pytest.mark.parametrize("batch", [3, 40])
def test_ties_break_by_smaller_id(batch):
    # Integer coordinates: distances are exact, so many points tie exactly.
    grid = np.array([[i % 3, (i // 3) % 3] for i in range(90)], dtype=np.float32)
    queries = np.tile(np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 0.0]], dtype=np.float32),
                      (batch // 3 + 1, 1))[:batch]
    index = pstable.ExactIndex(2)
    index.add(grid)
    ids, distances = index.search(queries, 15)
    scores = brute_force(grid, queries, "euclidean")
    expected = np.lexsort((np.broadcast_to(np.arange(90), scores.shape), scores), axis=1)[:, :15]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(distances, np.take_along_axis(scores, expected, axis=1), rtol=1e-6)


def test_single_query_gives_1d_results(rng):
    data = rng.standard_normal((50, 8)).astype(np.float32)
    index = pstable.ExactIndex(8, metric="cosine")
    index.add(data)
    ids, sims, visited = index.search(data[3], 4, return_counts=True)
    assert ids.shape == sims.shape == (4,)
    assert ids[0] == 3 and sims[0] == pytest.approx(1.0, abs=1e-6)
    assert visited == 50
    one_row_ids, _ = index.search(data[3:4], 4)
    np.testing.assert_array_equal(one_row_ids, ids[None, :])


def test_properties_and_repr(rng):
    index = pstable.ExactIndex(5, metric="ip", dtype=np.float64)
    assert (index.dim, index.size, len(index), index.metric) == (5, 0, 0, "ip")
    assert index.dtype == np.float64 and index.owns_data
    index.add(rng.standard_normal((7, 5)))
    assert len(index) == 7
    assert repr(index) == "ExactIndex(dim=5, metric='ip', dtype='float64', size=7)"
    assert index.memory_bytes >= 7 * 5 * 8
    np.testing.assert_array_equal(index.rows().shape, (7, 5))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_pickle_round_trip(metric, dtype, rng):
    data = rng.standard_normal((120, 9)).astype(dtype)
    queries = rng.standard_normal((20, 9)).astype(dtype)
    index = pstable.ExactIndex(9, metric=metric, dtype=dtype)
    index.add(data)
    clone = pickle.loads(pickle.dumps(index))
    assert repr(clone) == repr(index)
    for a, b in zip(index.search(queries, 5), clone.search(queries, 5)):
        np.testing.assert_array_equal(a, b)
    empty = pickle.loads(pickle.dumps(pstable.ExactIndex(4, metric=metric, dtype=dtype)))
    assert len(empty) == 0 and empty.dim == 4


def test_pickle_goes_through_the_file_format_and_reads_older_pickles(rng, tmp_path):
    data = rng.standard_normal((40, 6)).astype(np.float32)
    index = pstable.ExactIndex(6, metric="cosine")
    index.add(data)
    state = index.__getstate__()
    index.save(tmp_path / "i.pst")
    assert state == {"format": 2, "file": (tmp_path / "i.pst").read_bytes()}
    # Format 1 (the raw rows, written by earlier versions) still loads.
    old = pstable.ExactIndex.__new__(pstable.ExactIndex)
    old.__setstate__({"format": 1, "dim": 6, "metric": "cosine", "dtype": "float32", "rows": data})
    for a, b in zip(index.search(data[:5], 3), old.search(data[:5], 3)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="pickle format"):
        old.__setstate__({"format": 3})
    # A corrupt pickled file is refused by the file checks.
    broken = bytearray(state["file"])
    broken[-1] ^= 0xFF
    with pytest.raises(pstable.FormatError):
        old.__setstate__({"format": 2, "file": bytes(broken)})


def test_pickle_of_borrowed_index_owns_its_copy(rng):
    data = rng.standard_normal((30, 4)).astype(np.float32)
    index = pstable.ExactIndex.borrow(data)
    clone = pickle.loads(pickle.dumps(index))
    assert clone.owns_data and not index.owns_data
    data[:] = 0.0  # the clone must not see this
    assert np.any(clone.rows() != 0.0)


def test_cosine_reports_similarity(rng):
    data = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]], dtype=np.float32)
    index = pstable.ExactIndex(2, metric="cosine")
    index.add(data)
    ids, sims = index.search(np.array([2.0, 0.0], dtype=np.float32), 3)
    np.testing.assert_array_equal(ids, [0, 1, 2])
    np.testing.assert_allclose(sims, to_value(np.array([-1.0, 0.0, 1.0]), "cosine"), atol=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip", "manhattan"])
@pytest.mark.parametrize("batch", [3, 40])  # scan path and block path
def test_k_above_size_pads_on_both_indexes(metric, batch, rng):
    data = rng.standard_normal((12, 5)).astype(np.float32)
    queries = rng.standard_normal((batch, 5)).astype(np.float32)
    exact = pstable.ExactIndex(5, metric=metric)
    exact.add(data)
    ids, values = exact.search(queries, 20)
    assert ids.shape == values.shape == (batch, 20)
    # The 12 points in brute-force order, then id -1 and the metric's worst value.
    if metric == "manhattan":
        score = np.abs(queries[:, None, :].astype(np.float64) - data[None]).sum(-1)
    else:
        score = brute_force(data, queries, metric)
    np.testing.assert_array_equal(ids[:, :12], np.argsort(score, axis=1, kind="stable"))
    np.testing.assert_array_equal(ids[:, 12:], -1)
    worst = -np.inf if metric in ("cosine", "ip") else np.inf
    assert np.all(values[:, 12:] == worst)
    if metric == "ip":
        return  # E2LSH has no hash family for inner product
    # E2LSH with buckets far wider than the data finds every point: the same answer.
    lsh = pstable.E2LSHIndex(5, metric=metric, num_tables=2, num_hashes=2, bucket_width=1e6)
    lsh.add(data)
    lids, lvalues = lsh.search(queries, 20)
    np.testing.assert_array_equal(lids, ids)
    np.testing.assert_allclose(lvalues[:, :12], values[:, :12], rtol=1e-5)
    assert np.all(lvalues[:, 12:] == worst)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("batch", [3, 40])  # scan path and block path
def test_exact_filter_matches_brute_force_over_allowed_ids(metric, batch, rng):
    data = rng.standard_normal((500, DIM)).astype(np.float32)
    queries = rng.standard_normal((batch, DIM)).astype(np.float32)
    index = pstable.ExactIndex(DIM, metric=metric)
    index.add(data)
    mask = np.arange(500) % 3 != 0
    allowed = np.flatnonzero(mask)
    seen = []
    a = index.search(queries, 5, filter=mask, return_counts=True)
    b = index.search(queries, 5, 2, filter=allowed)
    c = index.search(queries, 5, filter=lambda ids: seen.append(ids.copy()) or mask[ids])
    np.testing.assert_array_equal(seen, [np.arange(500)])  # called once, with arange(size)
    score = brute_force(data, queries, metric)[:, allowed]
    expected = allowed[np.argsort(score, axis=1, kind="stable")[:, :5]]
    for r in (a, b, c):
        np.testing.assert_array_equal(r.ids, expected)
        np.testing.assert_allclose(r.distances, a.distances, rtol=1e-5)
        np.testing.assert_array_equal(r.probed, np.zeros(batch))  # no buckets in an exact scan
    np.testing.assert_array_equal(a.visited, np.full(batch, len(allowed)))  # rejected: not visited
    # Fewer allowed ids than k pad the rows; an empty filter allows nothing.
    ids, values = index.search(queries, 3, filter=[4, 9])
    np.testing.assert_array_equal(np.sort(ids[:, :2], axis=1), np.tile([4, 9], (batch, 1)))
    np.testing.assert_array_equal(ids[:, 2], -1)
    ids, _ = index.search(queries, 2, filter=np.zeros(0, dtype=bool))
    assert np.all(ids == -1)
    with pytest.raises(ValueError):
        index.search(queries, 2, filter=[-1])
    with pytest.raises(TypeError):
        index.search(queries, 2, filter=np.array([0.5]))


@pytest.mark.parametrize("metric", METRICS)
def test_exact_range_filter_drops_only_rejected_ids(metric, rng):
    data = rng.standard_normal((400, DIM)).astype(np.float32)
    queries = rng.standard_normal((6, DIM)).astype(np.float32)
    index = pstable.ExactIndex(DIM, metric=metric)
    index.add(data)
    score = np.sort(brute_force(data, queries, metric), axis=None)
    radius = float(score[len(score) // 10])  # about a tenth of the points in range
    radius = -radius if metric in ("cosine", "ip") else radius  # brute_force: smaller is better
    offsets, ids, values = index.search_radius(queries, radius)
    mask = np.arange(400) % 2 == 0
    f_offsets, f_ids, f_values, visited = index.search_radius(
        queries, radius, filter=mask, return_counts=True)
    np.testing.assert_array_equal(visited, np.full(6, 200))
    for i in range(6):
        full = ids[offsets[i]:offsets[i + 1]]
        keep = mask[full]
        np.testing.assert_array_equal(f_ids[f_offsets[i]:f_offsets[i + 1]], full[keep])
        np.testing.assert_array_equal(
            f_values[f_offsets[i]:f_offsets[i + 1]], values[offsets[i]:offsets[i + 1]][keep])


@pytest.mark.parametrize("metric", METRICS)
def test_exact_remove_contains_compact_like_e2lsh(metric, rng, tmp_path):
    data = rng.standard_normal((300, DIM)).astype(np.float32)
    queries = rng.standard_normal((20, DIM)).astype(np.float32)
    index = pstable.ExactIndex(DIM, metric=metric)
    index.add(data)
    gone = np.arange(0, 300, 4)
    index.remove(gone)
    assert (index.size, index.num_removed, index.next_id, len(index)) == (225, 75, 300, 225)
    assert 4 not in index and 5 in index and 300 not in index and -1 not in index
    with pytest.raises(ValueError, match="already removed"):
        index.remove([5, 8])  # 8 is gone: nothing is removed, 5 stays
    assert 5 in index
    with pytest.raises(ValueError, match="appears twice"):
        index.remove([5, 5])
    live = np.setdiff1d(np.arange(300), gone)
    score = brute_force(data, queries, metric)[:, live]
    expected = live[np.argsort(score, axis=1, kind="stable")[:, :5]]
    for batch in (3, 20):  # scan path and block path
        res = index.search(queries[:batch], 5)
        np.testing.assert_array_equal(res.ids, expected[:batch])
        np.testing.assert_array_equal(res.visited, np.full(batch, 225))
    # Removals survive pickles and files; compact keeps every other id.
    for clone in (pickle.loads(pickle.dumps(index)), _saved(index, tmp_path / "r.pst")):
        assert (clone.size, clone.num_removed, clone.next_id) == (225, 75, 300)
        np.testing.assert_array_equal(clone.search(queries, 5).ids, expected)
    index.compact()
    assert (index.size, index.num_removed, index.next_id) == (225, 0, 300)
    assert index.rows().shape == (225, DIM)
    np.testing.assert_array_equal(index.search(queries, 5).ids, expected)
    np.testing.assert_array_equal(_saved(index, tmp_path / "c.pst").search(queries, 5).ids,
                                  expected)
    index.add(data[:1])
    assert index.next_id == 301 and 300 in index and 0 not in index


def _saved(index, path):
    index.save(path)
    return pstable.load(path)
