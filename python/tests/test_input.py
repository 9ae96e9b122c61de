"""Bad input raises Python exceptions with the C++ messages; other layouts convert; no copies."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import pstable


@pytest.fixture
def index(rng):
    idx = pstable.ExactIndex(6, metric="cosine")
    idx.add(rng.standard_normal((40, 6)).astype(np.float32))
    return idx


def test_error_hierarchy():
    assert issubclass(pstable.InvalidArgument, ValueError)
    assert issubclass(pstable.DimensionMismatch, pstable.InvalidArgument)
    assert issubclass(pstable.InvalidData, pstable.InvalidArgument)
    assert issubclass(pstable.InvalidState, RuntimeError)
    assert issubclass(pstable.IoError, OSError)
    assert issubclass(pstable.FormatError, pstable.IoError)
    for cls in (pstable.InvalidArgument, pstable.InvalidState, pstable.IoError):
        assert issubclass(cls, pstable.Error)


def test_wrong_width(index):
    with pytest.raises(pstable.DimensionMismatch, match="has 5 columns, index was built with 6"):
        index.search(np.zeros((2, 5), np.float32), 3)
    with pytest.raises(ValueError, match="columns"):
        index.add(np.ones((2, 7), np.float32))
    assert len(index) == 40  # unchanged


def test_nan_and_zero_rows(index):
    bad = np.ones((3, 6), np.float32)
    bad[1, 4] = np.nan
    with pytest.raises(pstable.InvalidData, match="row 1 column 4 is nan"):
        index.add(bad)
    with pytest.raises(ValueError, match="NaN"):
        index.search(bad, 2)
    with pytest.raises(pstable.InvalidData, match="zero vector"):
        index.add(np.zeros((1, 6), np.float32))
    assert len(index) == 40


def test_bad_parameters(index):
    with pytest.raises(pstable.InvalidArgument, match="k must be at least 1"):
        index.search(np.ones(6, np.float32), 0)
    with pytest.raises(ValueError, match="num_threads"):
        index.search(np.ones(6, np.float32), 1, num_threads=-1)
    with pytest.raises(pstable.InvalidState, match="empty"):
        pstable.ExactIndex(3).search(np.ones(3), 1)
    with pytest.raises(ValueError, match="dimension must be positive"):
        pstable.ExactIndex(0)
    with pytest.raises(ValueError, match="metric must be one of 'euclidean', 'cosine', 'ip', 'manhattan'"):
        pstable.ExactIndex(3, metric="hamming")
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64'"):
        pstable.ExactIndex(3, dtype="int8")
    with pytest.raises(TypeError, match="dtype must be"):
        pstable.ExactIndex(3, dtype="no-such-type")


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.array([["a"] * 6]), TypeError, "real numbers"),
        (np.array([[object()] * 6], dtype=object), TypeError, "real numbers"),
        (np.ones((2, 6), np.complex64), TypeError, "real numbers"),
        (np.ones((2, 6), bool), TypeError, "real numbers"),
        (np.ones((2, 3, 6), np.float32), ValueError, "must be 2-D"),
        (np.float32(1.0), ValueError, "must be 2-D"),
    ],
)
def test_unusable_arrays(index, bad, error, words):
    with pytest.raises(error, match=words):
        index.search(bad, 1)
    with pytest.raises(error, match=words):
        index.add(bad)


def test_convertible_inputs_give_same_results(index, rng):
    q = rng.standard_normal((20, 6)).astype(np.float32)
    expected = index.search(q, 5)
    for variant in (
        np.asfortranarray(q),               # Fortran order: copied
        q.astype(np.float64),               # float64 into a float32 index: converted
        np.repeat(q, 2, axis=0)[::2],       # strided view: copied
        q.tolist(),                         # nested lists
    ):
        for a, b in zip(index.search(variant, 5), expected):
            np.testing.assert_array_equal(a, b)
    ints = pstable.ExactIndex(2)
    ints.add(np.array([[0, 1], [5, 5]], dtype=np.int64))
    assert ints.search([0, 2], 1)[0].tolist() == [0]


def test_search_reads_c_contiguous_queries_in_place(index, rng):
    """The C++ search sees the numpy buffer's own address: no copy on the way."""
    q = rng.standard_normal((20, 6)).astype(np.float32)
    index.search(q, 3)
    assert index._impl.last_query_address() == q.ctypes.data
    single = q[4]  # a 1-D row view: reshaped, still not copied
    index.search(single, 3)
    assert index._impl.last_query_address() == single.ctypes.data
    converted = q.astype(np.float64)  # documented copy: another buffer
    index.search(converted, 3)
    assert index._impl.last_query_address() not in (converted.ctypes.data, 0)
    fortran = np.asfortranarray(q)
    index.search(fortran, 3)
    assert index._impl.last_query_address() != fortran.ctypes.data


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_borrow_reads_the_array_in_place(dtype, rng):
    data = rng.standard_normal((50, 6)).astype(dtype)
    refs = sys.getrefcount(data)
    index = pstable.ExactIndex.borrow(data, metric="euclidean")
    assert not index.owns_data and index.dtype == np.dtype(dtype)
    assert index._impl.data_address() == data.ctypes.data
    assert sys.getrefcount(data) == refs + 1  # the index keeps the array alive
    assert "borrowed=True" in repr(index)
    q = rng.standard_normal((4, 6)).astype(dtype)
    expected = index.search(q, 3)
    address = data.ctypes.data
    del data
    gc.collect()
    assert index._impl.data_address() == address  # still the same, live buffer
    for a, b in zip(index.search(q, 3), expected):
        np.testing.assert_array_equal(a, b)
    index.add(q)  # an add copies the borrowed rows: the index owns everything from then on
    assert index.owns_data and len(index) == 54


def test_borrow_refuses_to_copy(rng):
    data = rng.standard_normal((10, 4))
    with pytest.raises(TypeError, match="C-contiguous"):
        pstable.ExactIndex.borrow(np.asfortranarray(data))
    with pytest.raises(TypeError, match="float32 or float64"):
        pstable.ExactIndex.borrow(data.astype(np.int32))
    with pytest.raises(ValueError, match="2-D"):
        pstable.ExactIndex.borrow(data[0])
    bad = data.copy()
    bad[2, 2] = np.inf
    with pytest.raises(pstable.InvalidData, match="row 2 column 2"):
        pstable.ExactIndex.borrow(bad)


def test_private_core_refuses_to_copy(index):
    """The compiled layer never converts: it raises, and the package converts (documented)."""
    with pytest.raises(TypeError, match="C-contiguous float32"):
        index._impl.search(np.ones((2, 6), np.float64), 1, 1)
    with pytest.raises(TypeError, match="C-contiguous float32"):
        index._impl.search(np.asfortranarray(np.ones((2, 6), np.float32)), 1, 1)
