"""E2LSHIndex from Python (skipped until the C++ E2LSH index is in this build)."""

from __future__ import annotations

import numpy as np
import pytest

import pstable
from conftest import brute_force, to_value

pytestmark = pytest.mark.skipif(not hasattr(pstable, "E2LSHIndex"),
                                reason="this build has no E2LSHIndex (branch lsh not merged)")


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 7, 100])
def test_results_are_true_neighbours_and_recall_is_high(metric, dtype, batch, rng):
    centers = rng.standard_normal((20, 16)) * 10
    data = (centers[rng.integers(0, 20, 2000)] + rng.standard_normal((2000, 16))).astype(dtype)
    queries = data[rng.integers(0, 2000, batch)] + 0.01
    index = pstable.E2LSHIndex(16, metric=metric, dtype=dtype, num_tables=20, num_hashes=4,
                               bucket_width=8.0, seed=3)
    index.add(data)
    ids, dist, visited = index.search(queries, 10, return_counts=True)
    assert ids.shape == dist.shape == (batch, 10) and ids.dtype == np.int64
    assert np.all((visited >= 0) & (visited <= 2000))
    scores = brute_force(data, queries, metric)
    found = ids >= 0
    own = to_value(np.take_along_axis(scores, np.where(found, ids, 0), axis=1), metric)
    np.testing.assert_allclose(dist[found], own[found], rtol=2e-4, atol=2e-4)
    exact = np.argsort(scores, axis=1, kind="stable")[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), exact.tolist())])
    assert recall > 0.8


def test_parameters_remove_and_repr(rng):
    index = pstable.E2LSHIndex(8, num_tables=3, num_hashes=2, bucket_width=4.0, num_probes=1,
                               seed=9)
    assert index.params == {"num_tables": 3, "num_hashes": 2, "bucket_width": 4.0,
                            "num_probes": 1, "seed": 9}
    assert repr(index).startswith("E2LSHIndex(dim=8, metric='euclidean', dtype='float32'")
    data = rng.standard_normal((100, 8)).astype(np.float32)
    index.add(data)
    index.remove(5)
    ids, _ = index.search(data, 3)
    assert 5 not in ids
    index.set_num_probes(2)
    assert index.params["num_probes"] == 2


def test_bad_parameters():
    with pytest.raises(ValueError):
        pstable.E2LSHIndex(8, num_tables=0)
    with pytest.raises(ValueError, match="'euclidean' or 'cosine'"):
        pstable.E2LSHIndex(8, metric="ip")
