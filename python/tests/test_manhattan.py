"""Manhattan (L1) distance on both indexes, against numpy brute force."""
import numpy as np
import pytest

import pstable


def l1_truth(data, queries, k):
    d = np.abs(queries[:, None, :].astype(np.float64) - data[None, :, :]).sum(axis=2)
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return ids, np.take_along_axis(d, ids, axis=1)


@pytest.mark.parametrize("metric", ["manhattan", "l1"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nq", [1, 40])  # one query, and a batch (tiled scan)
def test_exact_manhattan_equals_brute_force(metric, dtype, nq):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((500, 9)).astype(dtype)
    queries = rng.standard_normal((nq, 9)).astype(dtype)
    index = pstable.ExactIndex(9, metric=metric, dtype=dtype)
    index.add(data)
    assert index.metric == "manhattan"
    ids, dist = index.search(queries, k=7)
    want_ids, want_dist = l1_truth(data, queries, 7)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-5)


def test_e2lsh_manhattan_with_wide_buckets_is_exact(tmp_path):
    # Buckets far wider than the data: every point collides with every query in every table.
    rng = np.random.default_rng(4)
    data = rng.standard_normal((300, 6)).astype(np.float32)
    queries = rng.standard_normal((20, 6)).astype(np.float32)
    index = pstable.E2LSHIndex(6, metric="l1", num_tables=2, num_hashes=1, bucket_width=1e6)
    index.add(data)
    ids, dist = index.search(queries, k=5)
    want_ids, want_dist = l1_truth(data, queries, 5)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-5)
    index.save(tmp_path / "l1.pst")
    loaded = pstable.load(tmp_path / "l1.pst")
    assert isinstance(loaded, pstable.E2LSHIndex) and loaded.metric == "manhattan"
    np.testing.assert_array_equal(loaded.search(queries, k=5)[0], ids)


def test_e2lsh_rejects_a_metric_without_a_hash_family():
    with pytest.raises(ValueError, match="hash family"):
        pstable.E2LSHIndex(4, metric="ip")


def test_unknown_metric_names_the_accepted_ones():
    with pytest.raises(ValueError, match="manhattan"):
        pstable.ExactIndex(4, metric="hamming")
