"""load(..., mmap=True): a read-only mapping answers exactly like the copied load."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

import pstable

from conftest import DTYPES, check_against_oracle

# (kind, metric): every metric each index kind supports.
KINDS = [("exact", m) for m in ("euclidean", "cosine", "ip", "manhattan")] + [
    ("e2lsh", m) for m in ("euclidean", "cosine", "manhattan")
]


def build(kind, metric, dtype, rng, n=600, dim=20):
    data = rng.standard_normal((n, dim)).astype(dtype)
    if kind == "exact":
        index = pstable.ExactIndex(dim, metric=metric, dtype=dtype)
    else:
        index = pstable.E2LSHIndex(dim, metric=metric, dtype=dtype, num_tables=6, num_hashes=4,
                                   bucket_width=3.0 if metric != "manhattan" else 12.0,
                                   num_probes=4, seed=3)
    index.add(data)
    return index, data


def assert_same_answers(a, b, queries, k):
    """Ids, distances (bit for bit) and visited counts agree, for a batch and a single query."""
    for q in (queries, queries[0]):
        ids_a, dist_a, vis_a = a.search(q, k, return_counts=True)
        ids_b, dist_b, vis_b = b.search(q, k, return_counts=True)
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_array_equal(dist_a, dist_b)
        np.testing.assert_array_equal(vis_a, vis_b)


@pytest.mark.parametrize("kind,metric", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 40])
def test_mapped_answers_like_copied(kind, metric, dtype, batch, rng, tmp_path):
    index, data = build(kind, metric, dtype, rng)
    path = tmp_path / "index.pst"
    index.save(path)
    queries = rng.standard_normal((batch, data.shape[1])).astype(dtype)

    copied = pstable.load(path)
    mapped = pstable.load(path, mmap=True)
    cls = pstable.ExactIndex if kind == "exact" else pstable.E2LSHIndex
    assert type(mapped) is cls
    assert copied.owns_data and not mapped.owns_data
    assert (mapped.metric, mapped.dtype, mapped.dim, mapped.size) == (
        index.metric, index.dtype, index.dim, index.size)
    assert_same_answers(mapped, copied, queries, 10)
    assert_same_answers(mapped, index, queries, 10)
    if kind == "exact" and metric != "manhattan":  # the oracle knows these metrics
        ids, dist = mapped.search(queries, 5)
        check_against_oracle(data, queries, ids, dist, 5, metric, dtype)

    also = cls.load(path, mmap=True)  # the class's own load, metric and dtype asserted
    assert not also.owns_data
    assert_same_answers(also, copied, queries, 3)
    also = cls.load(path, metric=metric, dtype=dtype, mmap=True)
    assert_same_answers(also, copied, queries, 3)


def test_mapped_e2lsh_copies_on_first_write(rng, tmp_path):
    index, data = build("e2lsh", "euclidean", "float32", rng)
    path = tmp_path / "index.pst"
    index.save(path)
    before = path.read_bytes()
    queries = rng.standard_normal((30, data.shape[1])).astype(np.float32)
    more = rng.standard_normal((50, data.shape[1])).astype(np.float32)

    copied = pstable.E2LSHIndex.load(path)
    mapped = pstable.E2LSHIndex.load(path, mmap=True)
    for i in (copied, mapped):
        i.remove([4, 100, 599])
    assert not mapped.owns_data  # tombstones are in memory: the rows stay mapped
    assert_same_answers(mapped, copied, queries, 10)
    for i in (copied, mapped):
        i.add(more)
    assert mapped.owns_data  # the rows were copied out of the mapping
    assert mapped.next_id == copied.next_id == 650
    assert_same_answers(mapped, copied, queries, 10)
    for i in (copied, mapped):
        i.compact()
    assert_same_answers(mapped, copied, queries, 10)
    assert path.read_bytes() == before  # the file is never written


def test_mapped_exact_copies_on_add(rng, tmp_path):
    index, data = build("exact", "cosine", "float64", rng)
    path = tmp_path / "index.pst"
    index.save(path)
    before = path.read_bytes()
    mapped = pstable.load(path, mmap=True)
    more = rng.standard_normal((7, data.shape[1]))
    mapped.add(more)
    index.add(more)
    assert mapped.owns_data
    np.testing.assert_array_equal(mapped.rows(), np.vstack([data, more]))
    assert_same_answers(mapped, index, more, 4)
    assert path.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="a mapped file cannot be deleted on Windows")
@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
def test_mapped_index_survives_unlinking_and_replacing_the_file(kind, rng, tmp_path):
    index, data = build(kind, "euclidean", "float32", rng)
    path = tmp_path / "index.pst"
    index.save(path)
    mapped = pstable.load(path, mmap=True)
    os.remove(path)
    queries = rng.standard_normal((20, data.shape[1])).astype(np.float32)
    assert_same_answers(mapped, index, queries, 5)

    index.save(path)
    again = pstable.load(path, mmap=True)
    other, _ = build(kind, "euclidean", "float32", rng, n=100)
    other.save(path)  # replaced by rename: `again` keeps reading the old content
    assert_same_answers(again, index, queries, 5)
    assert pstable.load(path, mmap=True).size == 100


def test_mapped_index_pickles_and_saves(rng, tmp_path):
    index, data = build("e2lsh", "cosine", "float32", rng)
    path = tmp_path / "index.pst"
    index.save(path)
    mapped = pstable.load(path, mmap=True)
    queries = rng.standard_normal((10, data.shape[1])).astype(np.float32)
    assert_same_answers(pickle.loads(pickle.dumps(mapped)), index, queries, 5)
    mapped.save(tmp_path / "again.pst")
    assert (tmp_path / "again.pst").read_bytes() == path.read_bytes()
    exact = pstable.ExactIndex.borrow(data, "cosine")
    exact.save(path)
    assert_same_answers(pickle.loads(pickle.dumps(pstable.load(path, mmap=True))), exact,
                        queries, 5)


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
def test_mapped_load_rejects_bad_files(kind, rng, tmp_path):
    index, _ = build(kind, "euclidean", "float32", rng, n=30, dim=4)
    path = tmp_path / "index.pst"
    index.save(path)
    good = path.read_bytes()
    bad = tmp_path / "bad.pst"
    for n in (0, 10, 64, len(good) // 2, len(good) - 1):
        bad.write_bytes(good[:n])
        with pytest.raises(pstable.FormatError, match="truncated|empty"):
            pstable.load(bad, mmap=True)
    for at in range(0, len(good), 7):
        flipped = bytearray(good)
        flipped[at] ^= 0x04
        bad.write_bytes(bytes(flipped))
        with pytest.raises(pstable.FormatError):
            pstable.load(bad, mmap=True)
    other = pstable.E2LSHIndex if kind == "exact" else pstable.ExactIndex
    with pytest.raises(pstable.FormatError, match="holds a"):
        other.load(path, mmap=True)
    with pytest.raises(OSError):
        pstable.load(tmp_path / "missing.pst", mmap=True)
    with pytest.raises(pstable.IoError):
        pstable.load(tmp_path, mmap=True)
    with pytest.raises(TypeError, match="mmap"):
        pstable.load(path, mmap="yes")  # type: ignore[arg-type]
