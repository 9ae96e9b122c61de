"""E2LSHIndex(storage="sq8" | "sq4"): codes change how many rows a search reads, never its answer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import pstable

PARAMS = dict(num_tables=6, num_hashes=4, bucket_width=4.0, num_probes=4, seed=3)


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, d)) * 4
    return (centres[np.arange(n) % 8] + rng.normal(size=(n, d)) * 0.5).astype(np.float32)


@pytest.mark.parametrize("storage", ["sq8", "sq4"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_codes_answer_like_full_precision(storage: str, metric: str, dtype: str) -> None:
    data, queries = clustered(500, 16, 1).astype(dtype), clustered(30, 16, 2).astype(dtype)
    params = dict(PARAMS, bucket_width=16.0 if metric == "manhattan" else 4.0)
    full = pstable.E2LSHIndex(16, metric, dtype, **params)
    coded = pstable.E2LSHIndex(16, metric, dtype, storage=storage, **params)
    full.add(data)
    coded.add(data)
    assert (full.storage, coded.storage) == ("full", storage)
    a_ids, a_dist, a_visited = full.search(queries, 10, return_counts=True)
    b_ids, b_dist, b_visited = coded.search(queries, 10, return_counts=True)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_array_equal(a_dist, b_dist)
    np.testing.assert_array_equal(a_visited, b_visited)
    one_ids, one_dist = coded.search(queries[3], 10)  # one query per call: the direct path
    np.testing.assert_array_equal(one_ids, a_ids[3])
    assert coded.memory_bytes >= full.memory_bytes + 500 * 16 // (8 // int(storage[2]))


def test_sq8_survives_save_load_and_pickle(tmp_path) -> None:
    data, queries = clustered(300, 12, 4), clustered(20, 12, 5)
    coded = pstable.E2LSHIndex(12, "cosine", storage="sq8", **PARAMS)
    coded.add(data)
    coded.remove([4, 7])
    ids, dist = coded.search(queries, 8)
    path = tmp_path / "sq8.pst"
    coded.save(path)
    assert pstable.load(path).storage == "sq8"
    assert "storage='sq8'" in repr(coded)
    # Any E2LSH file loads into either storage: the file holds the full rows.
    full = pstable.E2LSHIndex.load(path, storage="full")
    assert full.storage == "full"
    np.testing.assert_array_equal(full.search(queries, 8)[0], ids)
    four = pstable.E2LSHIndex.load(path, storage="sq4")
    assert four.storage == "sq4"
    assert four.memory_bytes <= coded.memory_bytes  # 12 values: both pad to 64 bytes
    np.testing.assert_array_equal(four.search(queries, 8)[0], ids)
    four.save(tmp_path / "sq4.pst")
    assert pstable.load(tmp_path / "sq4.pst").storage == "sq4"
    again = pickle.loads(pickle.dumps(coded))
    assert again.storage == "sq8"
    got_ids, got_dist = again.search(queries, 8)
    np.testing.assert_array_equal(got_ids, ids)
    np.testing.assert_array_equal(got_dist, dist)


def test_bad_storage_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="storage must be 'full', 'sq8' or 'sq4'"):
        pstable.E2LSHIndex(4, storage="pq")
    with pytest.raises(ValueError, match="storage must be 'full', 'sq8' or 'sq4'"):
        pstable.E2LSHIndex(4, storage=None)  # type: ignore[arg-type]
