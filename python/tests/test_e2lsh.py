"""E2LSHIndex and pstable.tune from Python, against a numpy brute-force oracle."""

from __future__ import annotations

import numpy as np
import pytest

import pstable
from conftest import brute_force, to_value


def clustered(rng, n=2000, dim=16, clusters=20, dtype="float32"):
    centers = rng.standard_normal((clusters, dim)) * 10
    return (centers[rng.integers(0, clusters, n)] + rng.standard_normal((n, dim))).astype(dtype)


def recall(ids, exact):
    return np.mean([len(set(a) & set(b)) / exact.shape[1] for a, b in zip(ids.tolist(), exact.tolist())])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 7, 300])
def test_results_are_true_neighbours_and_recall_is_high(metric, dtype, batch, rng):
    data = clustered(rng, dtype=dtype)
    queries = data[rng.integers(0, 2000, batch)] + np.asarray(0.01, dtype=dtype)
    index = pstable.E2LSHIndex(16, metric=metric, dtype=dtype, num_tables=20, num_hashes=4,
                               bucket_width=8.0 if metric == "euclidean" else 0.5, seed=3)
    index.add(data)
    ids, dist, visited, probed = index.search(queries, 10, return_counts=True, return_probed=True)
    assert ids.shape == dist.shape == (batch, 10) and ids.dtype == np.int64
    assert dist.dtype == np.dtype(dtype)
    assert np.all((visited >= 10) & (visited <= 2000))
    assert np.all(probed == 20)  # one bucket per table with num_probes = 0
    scores = brute_force(data, queries, metric)
    assert np.all(ids >= 0)
    own = to_value(np.take_along_axis(scores, ids, axis=1), metric)
    tol = 2e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(dist, own, rtol=tol, atol=tol)  # returned distances are exact
    exact = np.argsort(scores, axis=1, kind="stable")[:, :10]
    assert recall(ids, exact) > 0.8


def test_one_query_gives_1d_results_and_probes_raise_counts(rng):
    data = clustered(rng)
    index = pstable.E2LSHIndex(16, num_tables=4, num_hashes=6, bucket_width=4.0, seed=2)
    index.add(data)
    ids, dist, visited = index.search(data[0], 5, return_counts=True)
    assert ids.shape == dist.shape == (5,) and isinstance(visited, int) and ids[0] == 0
    _, _, v0, p0 = index.search(data[:50], 5, return_counts=True, return_probed=True)
    index.num_probes = 10
    assert index.num_probes == 10 and index.params["num_probes"] == 10
    _, _, v1, p1 = index.search(data[:50], 5, return_counts=True, return_probed=True)
    assert np.all(p0 == 4) and np.all(p1 == 44) and np.all(v1 >= v0)


def test_min_collisions_computes_fewer_distances_but_fills_k(rng):
    data = clustered(rng)
    index = pstable.E2LSHIndex(16, num_tables=8, num_hashes=6, bucket_width=6.0, num_probes=4,
                               seed=2)
    index.add(data)
    _, _, plain = index.search(data[:30], 5, return_counts=True)
    previous = plain
    for m in range(2, 9):
        index.min_collisions = m
        assert index.min_collisions == m and index.params["min_collisions"] == m
        ids, _, visited = index.search(data[:30], 5, return_counts=True)
        assert np.all(visited <= previous)  # fewer rows reach a higher count
        assert np.all(visited >= np.minimum(5, plain))  # lower counts top up to k
        assert np.all((ids >= 0).sum(axis=1) == np.minimum(5, plain))
        previous = visited
    assert previous.mean() < plain.mean()
    with pytest.raises(ValueError, match=r"min_collisions must be in \[1, num_tables = 8\], got 9"):
        index.min_collisions = 9
    with pytest.raises(ValueError, match="min_collisions"):
        pstable.E2LSHIndex(16, num_tables=4, min_collisions=0)
    assert index.min_collisions == 8  # unchanged
    index.set_min_collisions(2)
    assert index.min_collisions == 2


def test_more_tables_cover_the_brute_force_result(rng):
    data = clustered(rng, n=500)
    index = pstable.E2LSHIndex(16, num_tables=64, num_hashes=2, bucket_width=40.0, seed=1)
    index.add(data)
    ids, dist = index.search(data[:20], 5, num_threads=2)
    scores = brute_force(data, data[:20], "euclidean")
    np.testing.assert_allclose(dist, np.sort(scores, axis=1)[:, :5], rtol=2e-4, atol=2e-4)


def test_parameters_and_repr(rng):
    index = pstable.E2LSHIndex(8, num_tables=3, num_hashes=2, bucket_width=4.0, num_probes=1,
                               seed=9)
    assert index.params == {"num_tables": 3, "num_hashes": 2, "bucket_width": 4.0,
                            "num_probes": 1, "seed": 9, "min_collisions": 1}
    index.add(rng.standard_normal((100, 8)))
    assert repr(index) == ("E2LSHIndex(dim=8, metric='euclidean', dtype='float32', num_tables=3, "
                           "num_hashes=2, bucket_width=4.0, num_probes=1, seed=9, "
                           "min_collisions=1, size=100)")
    assert pstable.E2LSHIndex(8, **index.params).params == index.params


def test_remove_compact_and_stable_ids(rng):
    data = rng.standard_normal((100, 8)).astype(np.float32)
    index = pstable.E2LSHIndex(8, num_tables=8, num_hashes=2, bucket_width=8.0, seed=4)
    index.add(data)
    index.remove(5)
    index.remove(np.array([6, 7]))
    assert (5 not in index) and (8 in index) and index.size == 97 and index.num_removed == 3
    ids, _ = index.search(data, 3)
    assert not np.isin(ids, [5, 6, 7]).any()
    with pytest.raises(ValueError, match="already removed"):
        index.remove([9, 5])
    assert 9 in index  # a failed batch removes nothing
    with pytest.raises(ValueError, match="id 100 is not in the index"):
        index.remove(100)
    with pytest.raises(ValueError, match="twice"):
        index.remove([10, 10])
    assert 10 in index
    before, _ = index.search(data[20:30], 3)
    index.compact()
    assert index.num_removed == 0 and index.size == 97 and index.next_id == 100
    after, _ = index.search(data[20:30], 3)
    np.testing.assert_array_equal(before, after)  # ids survive compact
    index.add(data[:2])
    assert index.next_id == 102 and 101 in index
    own, _ = index.search(data[0], 2)
    assert set(own.tolist()) == {0, 100}


@pytest.mark.parametrize("threads", [1, 2])
def test_filter_mask_ids_and_callable_agree_with_brute_force(rng, threads):
    data = clustered(rng, n=600)
    index = pstable.E2LSHIndex(16, num_tables=64, num_hashes=2, bucket_width=40.0, seed=5)
    index.add(data)
    index.remove(3)
    allowed = np.flatnonzero(rng.random(600) < 0.3)
    mask = np.zeros(600, dtype=bool)
    mask[allowed] = True
    queries = data[:25]
    a = index.search(queries, 5, threads, filter=mask)
    b = index.search(queries, 5, threads, filter=allowed)
    c = index.search(queries, 5, threads, filter=lambda ids: mask[ids])
    for r in (b, c):
        np.testing.assert_array_equal(a[0], r[0])
    assert np.isin(a[0], allowed).all() and not (a[0] == 3).any()
    scores = brute_force(data, queries, "euclidean")
    scores[:, ~mask] = np.inf
    scores[:, 3] = np.inf
    np.testing.assert_allclose(a[1], np.sort(scores, axis=1)[:, :5], rtol=2e-4, atol=2e-4)
    _, _, visited = index.search(queries, 5, threads, return_counts=True, filter=mask)
    assert np.all(visited <= mask.sum())  # rejected points cost no distance
    # A short mask excludes the ids past its end; nothing allowed pads with -1.
    ids, dist = index.search(queries, 5, filter=np.zeros(0, dtype=bool))
    assert np.all(ids == -1) and np.all(np.isinf(dist))


def test_bad_filters_and_parameters_raise(rng):
    index = pstable.E2LSHIndex(8)
    index.add(rng.standard_normal((50, 8)))
    with pytest.raises(ValueError, match=">= 0"):
        index.search(np.zeros(8), 1, filter=[-1])
    with pytest.raises(TypeError):
        index.search(np.zeros(8), 1, filter=np.array([0.5]))
    with pytest.raises(ValueError, match="1-D"):
        index.search(np.zeros(8), 1, filter=np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"num_tables \(L\) must be in \[1, 4096\], got 0"):
        pstable.E2LSHIndex(8, num_tables=0)
    with pytest.raises(ValueError, match=r"num_hashes \(k\) must be in \[1, 32\], got 33"):
        pstable.E2LSHIndex(8, num_hashes=33)
    with pytest.raises(ValueError, match="bucket_width"):
        pstable.E2LSHIndex(8, bucket_width=0.0)
    with pytest.raises(ValueError, match="bucket_width"):
        pstable.E2LSHIndex(8, bucket_width=float("nan"))
    with pytest.raises(ValueError, match="exceeds the 8 buckets"):
        pstable.E2LSHIndex(8, num_hashes=2, num_probes=9)
    with pytest.raises(ValueError, match="no hash family for metric 'ip'"):
        pstable.E2LSHIndex(8, metric="ip")
    with pytest.raises(ValueError, match="num_probes must be in"):
        index.num_probes = -1
    assert index.num_probes == 0  # unchanged
    assert index.search(np.zeros(8), 51).ids[50] == -1  # k above size pads (test_search.py)
    with pytest.raises(pstable.DimensionMismatch):
        index.add(np.zeros((2, 7)))
    with pytest.raises(TypeError):
        index.remove(1.5)
    assert index.size == 50


def test_tune_returns_params_that_reach_the_target(rng):
    data = clustered(rng, n=3000, dim=16)
    r = pstable.tune(data, k=10, target_recall=0.9, num_queries=100, max_tables=16,
                     hash_counts=[4, 8], probe_counts=[0, 8], distance_us=0.05, lookup_us=0.1,
                     hash_us=0.01, entry_us=0.005)
    assert set(r.params) == {"num_tables", "num_hashes", "bucket_width", "num_probes", "seed",
                             "min_collisions"}
    assert set(r.unit_costs_us) == {"distance", "lookup", "hash", "entry"}
    assert {t["params"]["min_collisions"] for t in r.trials} == {1, 2, 3, 4}
    assert r.reached_target and r.recall >= 0.9
    assert 0 < r.visited_fraction < 1 and r.queries_per_second > 0 and r.trials
    assert r.indexed_points == 2900 and (r.dim, r.metric, r.dtype) == (16, "euclidean", "float32")
    index = pstable.E2LSHIndex(16, **r.params)
    assert index.params == r.params == r.make_index().params
    index.add(data)
    ids, _ = index.search(data[:100], 10)
    exact = np.argsort(brute_force(data, data[:100], "euclidean"), axis=1, kind="stable")[:, :10]
    assert recall(ids, exact) > 0.8
    again = pstable.tune(data, k=10, target_recall=0.9, num_queries=100, max_tables=16,
                         hash_counts=[4, 8], probe_counts=[0, 8], distance_us=0.05,
                         lookup_us=0.1, hash_us=0.01, entry_us=0.005)
    assert again.params == r.params  # fixed unit costs: reproducible
    assert sum(t["measured_qps"] > 0 for t in r.trials) == 1  # only the model's choice is built
    assert r.exact_queries_per_second > 0 and r.scan_is_faster == (
        r.queries_per_second <= r.exact_queries_per_second)


def test_tune_times_a_shortlist_and_takes_real_queries(rng):
    data = clustered(rng, n=3000, dim=16)
    queries = clustered(rng, n=120, dim=16)
    r = pstable.tune(data, k=10, target_recall=0.9, num_queries=100, max_tables=16,
                     hash_counts=[4, 8], probe_counts=[0, 8], queries=queries, shortlist=3)
    assert r.indexed_points == 3000  # the caller's queries: no row held out
    built = [t for t in r.trials if t["measured_qps"] > 0]
    assert 2 <= len(built) <= 1 + 3 + 3  # the choice, the shortlist, the refit's picks
    assert max(t["measured_qps"] for t in built) <= r.queries_per_second * 1.1 + 1e-9
    assert r.queries_per_second < 1e8  # a real timing: not a time read before the search ran
    index = r.make_index()
    index.add(data)
    ids, _ = index.search(queries[:100], 10)
    exact = np.argsort(brute_force(data, queries[:100], "euclidean"), axis=1, kind="stable")[:, :10]
    assert recall(ids, exact) == pytest.approx(r.recall)
    with pytest.raises(ValueError, match="shortlist must be in"):
        pstable.tune(data, shortlist=-1)
    with pytest.raises(ValueError):
        pstable.tune(data, queries=queries[:, :5])


def test_tune_cosine_float64_and_bad_input(rng):
    data = clustered(rng, n=1000, dim=8, dtype="float64")
    r = pstable.tune(data, k=5, target_recall=0.8, metric="cosine", num_queries=50,
                     max_tables=8, hash_counts=[4], probe_counts=[0])
    assert r.dtype == "float64" and r.make_index().metric == "cosine"
    with pytest.raises(ValueError, match="target_recall must be in"):
        pstable.tune(data, target_recall=1.5)
    with pytest.raises(ValueError, match="collision_thresholds entries must be in"):
        pstable.tune(data, collision_thresholds=[0])
    with pytest.raises(ValueError, match="unit costs must be finite"):
        pstable.tune(data, entry_us=float("nan"))
    with pytest.raises(ValueError, match="cost_tolerance must be in"):
        pstable.tune(data, cost_tolerance=-1.0)
    with pytest.raises(ValueError, match="tuning needs more data"):
        pstable.tune(data[:20], k=10)
    with pytest.raises(ValueError, match="no hash family for metric 'ip'"):
        pstable.tune(data, metric="ip")


def test_tune_reports_progress_and_can_be_cancelled(rng, capsys):
    data = clustered(rng, n=1000, dim=8)
    opts = dict(k=5, target_recall=0.8, num_queries=50, max_tables=8, hash_counts=[4, 8],
                table_collision=[0.05, 0.12], probe_counts=[0, 4], shortlist=2)
    calls = []
    r = pstable.tune(data, progress=lambda done, total, stage: calls.append((done, total, stage)),
                     **opts)
    total = 1 + 2 * 2 + 1 + 2 + 3  # ground truth, 4 (k, w) models, the choice, 2 shortlisted,
    # 3 under the refit model
    assert calls[0] == (0, total, "ground truth") and calls[-1] == (total, total, "done")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)  # never goes back
    assert {c[1] for c in calls} == {total}
    assert [c[2] for c in calls].count("model") == 4
    assert r.reached_target
    # An exception raised by the callback stops the tuning and reaches the caller.
    class Stop(Exception):
        pass

    def stop_at_model(done, total, stage):
        if stage == "model":
            raise Stop()

    with pytest.raises(Stop):
        pstable.tune(data, progress=stop_at_model, **opts)
    # The bar: forced on it draws on stderr and ends its line; off (and auto under pytest's
    # captured, non-terminal stderr) it prints nothing.
    pstable.tune(data, progress=True, **opts)
    err = capsys.readouterr().err
    assert f"pstable.tune [" in err and f"] {total}/{total} done" in err and err.endswith("\n")
    pstable.tune(data, progress=False, **opts)
    pstable.tune(data, **opts)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="progress must be"):
        pstable.tune(data, progress="yes", **opts)


def test_tune_times_the_storage_asked_for(rng):
    data = clustered(rng, n=2000, dim=16)
    opts = dict(k=10, target_recall=0.9, num_queries=100, max_tables=16, hash_counts=[4, 8],
                probe_counts=[0, 8], shortlist=2, progress=False)
    r = pstable.tune(data, storage="sq8", **opts)
    assert r.storage == "sq8"
    index = r.make_index()
    assert index.storage == "sq8" and index.params == {**index.params, **r.params}
    # With all unit costs fixed nothing is timed: the choice does not depend on the storage.
    fixed = dict(opts, distance_us=0.2, lookup_us=0.1, hash_us=0.01, entry_us=0.005)
    assert pstable.tune(data, storage="sq4", **fixed).params == pstable.tune(data, **fixed).params
    with pytest.raises(ValueError, match="storage must be"):
        pstable.tune(data, storage="pq", **opts)


def test_tune_auto_keeps_the_fastest_storage(rng):
    data = clustered(rng, n=2000, dim=16)
    opts = dict(k=10, target_recall=0.9, num_queries=100, max_tables=16, hash_counts=[4, 8],
                probe_counts=[0, 8], shortlist=2, progress=False)
    assert pstable.tune(data, storage="sq8", **opts).storage_timings == {}
    r = pstable.tune(data, storage="auto", **opts)
    assert sorted(r.storage_timings) == ["full", "sq4", "sq8"]
    assert all(0 < qps < 1e8 for qps in r.storage_timings.values())
    assert r.storage == max(r.storage_timings, key=r.storage_timings.get)
    assert r.queries_per_second == r.storage_timings[r.storage]
    assert r.make_index().storage == r.storage
    # choose_storage= does the same from any storage, and is checked.
    r = pstable.tune(data, storage="full", choose_storage=True, **opts)
    assert list(r.storage_timings)[0] == "full" and len(r.storage_timings) == 3
    with pytest.raises(TypeError, match="choose_storage must be a bool"):
        pstable.tune(data, choose_storage="yes", **opts)
    # Fixed unit costs time nothing: "auto" keeps the storage it tuned with.
    fixed = dict(opts, distance_us=0.2, lookup_us=0.1, hash_us=0.01, entry_us=0.005)
    r = pstable.tune(data, storage="auto", **fixed)
    assert r.storage == "sq8" and r.storage_timings == {}
