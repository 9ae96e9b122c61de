"""Out-of-range Python integers raise pstable.InvalidArgument (a ValueError) naming the
parameter, never pybind11's raw TypeError (issue 13, items 10 and 11)."""

from __future__ import annotations

import numpy as np
import pytest

import pstable

BAD = [2**63, 2**64, 2**70, -(2**63) - 1]
BAD_INT32 = [2**31, -(2**31) - 1, 2**63]


@pytest.fixture()
def exact(rng):
    index = pstable.ExactIndex(4)
    index.add(rng.standard_normal((20, 4)))
    return index


@pytest.fixture()
def lsh(rng):
    index = pstable.E2LSHIndex(4, num_tables=2, num_hashes=2)
    index.add(rng.standard_normal((20, 4)))
    return index


def q():
    return np.zeros((2, 4), dtype=np.float32) + 0.5


# (name, callable taking the value, C++ type of the parameter): every public integer parameter.
CALLS = [
    ("ExactIndex(dim)", lambda v, e, l: pstable.ExactIndex(v), "int64"),
    ("E2LSHIndex(dim)", lambda v, e, l: pstable.E2LSHIndex(v), "int64"),
    ("E2LSHIndex(num_tables)", lambda v, e, l: pstable.E2LSHIndex(4, num_tables=v), "int32"),
    ("E2LSHIndex(num_hashes)", lambda v, e, l: pstable.E2LSHIndex(4, num_hashes=v), "int32"),
    ("E2LSHIndex(num_probes)", lambda v, e, l: pstable.E2LSHIndex(4, num_probes=v), "int32"),
    ("E2LSHIndex(min_collisions)", lambda v, e, l: pstable.E2LSHIndex(4, min_collisions=v), "int32"),
    ("E2LSHIndex(seed)", lambda v, e, l: pstable.E2LSHIndex(4, seed=v), "uint64"),
    ("ExactIndex.search(k)", lambda v, e, l: e.search(q(), v), "int64"),
    ("ExactIndex.search(num_threads)", lambda v, e, l: e.search(q(), 1, num_threads=v), "int32"),
    ("E2LSHIndex.search(k)", lambda v, e, l: l.search(q(), v), "int64"),
    ("E2LSHIndex.search(num_threads)", lambda v, e, l: l.search(q(), 1, num_threads=v), "int32"),
    ("set_num_threads", lambda v, e, l: pstable.set_num_threads(v), "int32"),
    ("ExactIndex.search_radius(num_threads)",
     lambda v, e, l: e.search_radius(q(), 1.0, num_threads=v), "int32"),
    ("E2LSHIndex.search_radius(num_threads)",
     lambda v, e, l: l.search_radius(q(), 1.0, num_threads=v), "int32"),
    ("E2LSHIndex.num_probes", lambda v, e, l: setattr(l, "num_probes", v), "int32"),
    ("E2LSHIndex.set_num_probes", lambda v, e, l: l.set_num_probes(v), "int32"),
    ("E2LSHIndex.min_collisions", lambda v, e, l: setattr(l, "min_collisions", v), "int32"),
    ("E2LSHIndex.set_min_collisions", lambda v, e, l: l.set_min_collisions(v), "int32"),
    ("E2LSHIndex.remove", lambda v, e, l: l.remove(v), "int64"),
    ("E2LSHIndex.remove([id])", lambda v, e, l: l.remove([v]), "int64"),
    ("ExactIndex.remove", lambda v, e, l: e.remove(v), "int64"),
    ("ExactIndex.remove([id])", lambda v, e, l: e.remove([v]), "int64"),
    ("ExactIndex.add(ids=[id])", lambda v, e, l: e.add(q(), ids=[v]), "int64"),
    ("E2LSHIndex.add(ids=[id])", lambda v, e, l: l.add(q(), ids=[v]), "int64"),
    ("ExactIndex.search(filter=[id])", lambda v, e, l: e.search(q(), 1, filter=[v]), "int64"),
    ("E2LSHIndex.search(filter=[id])", lambda v, e, l: l.search(q(), 1, filter=[v]), "int64"),
    ("ground_truth(k)", lambda v, e, l: pstable.ground_truth(np.ones((3, 4)), q(), v), "int64"),
    ("ground_truth(num_threads)",
     lambda v, e, l: pstable.ground_truth(np.ones((3, 4)), q(), 1, num_threads=v), "int32"),
    ("tune(k)", lambda v, e, l: pstable.tune(np.ones((60, 4)), k=v), "int64"),
    ("tune(seed)", lambda v, e, l: pstable.tune(np.ones((60, 4)), seed=v), "uint64"),
    ("tune(num_queries)", lambda v, e, l: pstable.tune(np.ones((60, 4)), num_queries=v), "int64"),
    ("tune(max_points)", lambda v, e, l: pstable.tune(np.ones((60, 4)), max_points=v), "int64"),
    ("tune(max_tables)", lambda v, e, l: pstable.tune(np.ones((60, 4)), max_tables=v), "int32"),
    ("tune(hash_counts)", lambda v, e, l: pstable.tune(np.ones((60, 4)), hash_counts=[v]), "int32"),
    ("tune(probe_counts)", lambda v, e, l: pstable.tune(np.ones((60, 4)), probe_counts=[v]), "int32"),
    ("tune(collision_thresholds)",
     lambda v, e, l: pstable.tune(np.ones((60, 4)), collision_thresholds=[v]), "int32"),
]
CASES = [
    pytest.param(call, value, id=f"{name}={value}")
    for name, call, kind in CALLS
    for value in ({"int64": BAD, "int32": BAD_INT32, "uint64": [-1, 2**64, 2**70]}[kind])
]


@pytest.mark.parametrize("call,value", CASES)
def test_out_of_range_integers_raise_value_error(call, value, exact, lsh):
    with pytest.raises(pstable.InvalidArgument, match=rf"= {value} is out of range|{value}") as e:
        call(value, exact, lsh)
    assert "TypeError" not in str(e.value) and "incompatible function arguments" not in str(e.value)
    assert lsh.size == 20 and exact.size == 20  # nothing changed


@pytest.mark.parametrize("name,call,kind", CALLS, ids=[c[0] for c in CALLS])
def test_non_integers_raise_a_clear_type_error(name, call, kind, exact, lsh):
    if "remove" in name or "filter" in name or "ids=" in name:
        pytest.skip("remove, filter and ids take arrays: their dtype checks are tested elsewhere")
    with pytest.raises(TypeError, match="must be an integer"):
        call(2.5, exact, lsh)


def test_membership_of_out_of_range_ids_is_false(lsh):
    assert 0 in lsh and np.int64(3) in lsh
    for v in (2**63, 2**70, -1, -(2**70), np.uint64(2**64 - 1), 1.0, "0", True):
        assert v not in lsh


def test_remove_edge_cases(lsh):
    lsh.remove([])  # no-op, any dtype of an empty array
    lsh.remove(np.array([], dtype=np.float64))
    assert lsh.size == 20
    with pytest.raises(pstable.InvalidArgument, match="1-D"):
        lsh.remove(np.array([[1, 2], [3, 4]]))
    with pytest.raises(pstable.InvalidArgument, match=str(2**63)):
        lsh.remove(np.array([2**63], dtype=np.uint64))
    with pytest.raises(TypeError, match="integers"):
        lsh.remove(np.array([1.5]))
    assert lsh.size == 20  # nothing removed by the failures
    lsh.remove(np.array([1, 2], dtype=np.uint8))
    assert 1 not in lsh and 2 not in lsh and lsh.size == 18


def test_filter_ids_past_next_id_allocate_nothing(lsh, rng):
    queries = rng.standard_normal((3, 4))
    big = np.array([0, 5, 2**40, 2**62], dtype=np.int64)
    ids, _ = lsh.search(queries, 2, filter=big)  # would allocate a 4 EiB mask before the fix
    assert set(ids.ravel().tolist()) <= {0, 5, -1}
    same, _ = lsh.search(queries, 2, filter=np.array([0, 5]))
    assert np.array_equal(ids, same)
    with pytest.raises(pstable.InvalidArgument, match="not an id"):
        lsh.search(queries, 2, filter=np.array([2**64 - 1], dtype=np.uint64))
    with pytest.raises(pstable.InvalidArgument, match=">= 0"):
        lsh.search(queries, 2, filter=[3, -1])
    with pytest.raises(pstable.InvalidArgument, match="out of range"):
        lsh.search(queries, 2, filter=[2**70])


def test_uint64_max_input_is_rejected_or_exact(rng):
    # 2**64 - 1 becomes 1.8e19: its squares overflow float32 (InvalidData naming the row), and
    # float64 computes it exactly, whether 1 or 16+ queries are searched at once.
    big = np.array([[2**64 - 1, 0, 0, 0]], dtype=np.uint64)
    index = pstable.ExactIndex(4)
    index.add(rng.standard_normal((5, 4)))
    with pytest.raises(pstable.InvalidData, match="data row 0 has norm"):
        index.add(big)
    with pytest.raises(pstable.InvalidData, match="queries row 0 has norm"):
        index.search(big, 1)
    index64 = pstable.ExactIndex(4, dtype="float64")
    index64.add(np.vstack([np.zeros((3, 4)), big.astype(np.float64)]))
    one_ids, one_dist = index64.search(big, 4)
    many_ids, many_dist = index64.search(np.repeat(big, 20, axis=0), 4)
    assert one_ids[0, 0] == 3 and one_dist[0, 0] == 0.0
    assert np.array_equal(many_ids, np.repeat(one_ids, 20, axis=0))
    assert np.array_equal(many_dist, np.repeat(one_dist, 20, axis=0))
    assert np.isfinite(one_dist).all()
