"""save/load, pstable.load and pickling through the C++ index file format (docs/file-format.md)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import pstable

E2LSH_METRICS = ["euclidean", "cosine"]
DTYPES = ["float32", "float64"]


def assert_same_answers(a, b, queries, k):
    """Bit-identical ids, distances and visited counts."""
    for x, y in zip(a.search(queries, k, return_counts=True), b.search(queries, k, return_counts=True)):
        np.testing.assert_array_equal(x, y)


def make_lsh(metric, dtype, rng, n=300, dim=8):
    index = pstable.E2LSHIndex(dim, metric=metric, dtype=dtype, num_tables=5, num_hashes=3,
                               bucket_width=2.0, num_probes=2, seed=7)
    index.add(rng.standard_normal((n, dim)).astype(dtype))
    return index


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_save_load_round_trip(metric, dtype, rng, tmp_path):
    data = rng.standard_normal((80, 6)).astype(dtype)
    index = pstable.ExactIndex(6, metric=metric, dtype=dtype)
    index.add(data)
    path = tmp_path / "index.pst"
    index.save(path)
    for loaded in (pstable.ExactIndex.load(path, metric=metric, dtype=dtype),
                   pstable.ExactIndex.load(path), pstable.load(path), pstable.load(str(path))):
        assert type(loaded) is pstable.ExactIndex
        assert repr(loaded) == repr(index)
        assert_same_answers(loaded, index, data[:9], 4)


@pytest.mark.parametrize("metric", E2LSH_METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_e2lsh_save_load_round_trip(metric, dtype, rng, tmp_path):
    index = make_lsh(metric, dtype, rng)
    queries = rng.standard_normal((40, 8)).astype(dtype)
    path = tmp_path / "lsh.pst"
    index.save(path)
    for loaded in (pstable.E2LSHIndex.load(path), pstable.load(path),
                   pstable.E2LSHIndex.load(path, metric=metric, dtype=dtype)):
        assert type(loaded) is pstable.E2LSHIndex
        assert repr(loaded) == repr(index)
        assert loaded.params == index.params
        assert_same_answers(loaded, index, queries, 10)


@pytest.mark.parametrize("metric", E2LSH_METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_e2lsh_files_keep_removals_and_ids(metric, dtype, rng, tmp_path):
    index = make_lsh(metric, dtype, rng)
    queries = rng.standard_normal((30, 8)).astype(dtype)
    for i in (0, 3, 150, 299):
        index.remove(i)
    index.save(tmp_path / "removed.pst")
    loaded = pstable.load(tmp_path / "removed.pst")
    assert loaded.size == 296
    assert_same_answers(loaded, index, queries, 10)
    assert not np.isin(loaded.search(queries, 10)[0], [0, 3, 150, 299]).any()
    with pytest.raises(pstable.InvalidArgument):
        loaded.remove(3)

    index.compact()
    index.set_num_probes(5)
    index.min_collisions = 2
    index.save(tmp_path / "compacted.pst")
    loaded = pstable.load(tmp_path / "compacted.pst")
    assert loaded.params["num_probes"] == 5 and loaded.min_collisions == 2
    assert_same_answers(loaded, index, queries, 10)
    more = rng.standard_normal((20, 8)).astype(dtype)
    index.add(more)
    loaded.add(more)  # ids continue from 300 in both
    assert_same_answers(loaded, index, more, 1)
    assert (loaded.search(more, 1)[0][:, 0] >= 300).all()


@pytest.mark.parametrize("metric", E2LSH_METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_e2lsh_pickle_round_trip(metric, dtype, rng):
    index = make_lsh(metric, dtype, rng)
    index.remove(10)
    queries = rng.standard_normal((25, 8)).astype(dtype)
    clone = pickle.loads(pickle.dumps(index))
    assert type(clone) is pstable.E2LSHIndex
    assert repr(clone) == repr(index)
    assert_same_answers(clone, index, queries, 7)
    clone.remove(11)  # independent copies
    assert clone.size == index.size - 1

    empty = pstable.E2LSHIndex(3, metric=metric, dtype=dtype)
    again = pickle.loads(pickle.dumps(empty))
    assert again.size == 0 and again.dim == 3 and again.params == empty.params


def test_e2lsh_pickle_rejects_unknown_format():
    index = pstable.E2LSHIndex(3)
    with pytest.raises(ValueError, match="pickle format"):
        index.__setstate__({"format": 99})


def test_load_picks_class_dtype_and_metric(rng, tmp_path):
    exact = pstable.ExactIndex(4, metric="ip", dtype="float64")
    exact.add(rng.standard_normal((5, 4)))
    exact.save(tmp_path / "e.pst")
    lsh = pstable.E2LSHIndex(4, metric="cosine", dtype="float32", num_tables=2)
    lsh.add(rng.standard_normal((5, 4)).astype(np.float32))
    lsh.save(tmp_path / "l.pst")
    e, l = pstable.load(tmp_path / "e.pst"), pstable.load(tmp_path / "l.pst")
    assert (type(e), e.metric, e.dtype) == (pstable.ExactIndex, "ip", np.float64)
    assert (type(l), l.metric, l.dtype) == (pstable.E2LSHIndex, "cosine", np.float32)
    assert l.params["num_tables"] == 2


def test_loading_as_the_wrong_type_names_the_right_one(rng, tmp_path):
    lsh = make_lsh("euclidean", "float32", rng)
    lsh.save(tmp_path / "l.pst")
    with pytest.raises(pstable.FormatError, match=r"load it as E2LSHIndex<float, Euclidean>"):
        pstable.ExactIndex.load(tmp_path / "l.pst")
    with pytest.raises(pstable.FormatError, match=r"float32 euclidean e2lsh index"):
        pstable.E2LSHIndex.load(tmp_path / "l.pst", dtype="float64")
    exact = pstable.ExactIndex(8, metric="cosine")
    exact.add(rng.standard_normal((3, 8)).astype(np.float32))
    exact.save(tmp_path / "e.pst")
    with pytest.raises(pstable.FormatError, match=r"load it as ExactIndex<float, Cosine>"):
        pstable.E2LSHIndex.load(tmp_path / "e.pst")


def test_load_errors(rng, tmp_path):
    for load in (pstable.ExactIndex.load, pstable.E2LSHIndex.load, pstable.load):
        with pytest.raises(OSError):
            load(tmp_path / "missing.pst")
        garbage = tmp_path / "garbage.pst"
        garbage.write_bytes(b"not an index file at all")
        with pytest.raises(pstable.FormatError, match="not a pstable index file"):
            load(garbage)
    make_lsh("cosine", "float64", rng).save(tmp_path / "l.pst")
    data = (tmp_path / "l.pst").read_bytes()
    (tmp_path / "cut.pst").write_bytes(data[: len(data) // 2])
    with pytest.raises(pstable.FormatError, match="truncated"):
        pstable.load(tmp_path / "cut.pst")
    flipped = bytearray(data)
    flipped[200] ^= 1
    (tmp_path / "flip.pst").write_bytes(bytes(flipped))
    with pytest.raises(pstable.FormatError, match="checksum"):
        pstable.load(tmp_path / "flip.pst")
