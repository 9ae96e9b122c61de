"""save/load through the C++ index file format (skipped until branch files is in this build)."""

from __future__ import annotations

import numpy as np
import pytest

import pstable

pytestmark = pytest.mark.skipif(not pstable._core.has_files,
                                reason="this build has no index file format (branch files)")


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip(metric, dtype, rng, tmp_path):
    data = rng.standard_normal((80, 6)).astype(dtype)
    index = pstable.ExactIndex(6, metric=metric, dtype=dtype)
    index.add(data)
    path = tmp_path / "index.pst"
    index.save(path)
    loaded = pstable.ExactIndex.load(path, metric=metric, dtype=dtype)
    assert repr(loaded) == repr(index)
    for a, b in zip(loaded.search(data[:9], 4), index.search(data[:9], 4)):
        np.testing.assert_array_equal(a, b)


def test_load_errors(tmp_path):
    with pytest.raises(OSError):
        pstable.ExactIndex.load(tmp_path / "missing.pst")
    garbage = tmp_path / "garbage.pst"
    garbage.write_bytes(b"not an index file at all")
    with pytest.raises(pstable.FormatError):
        pstable.ExactIndex.load(garbage)
