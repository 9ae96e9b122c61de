"""Shared fixtures and the numpy brute-force oracle the tests compare against."""

from __future__ import annotations

import numpy as np
import pytest

METRICS = ["euclidean", "cosine", "ip"]
DTYPES = ["float32", "float64"]


def brute_force(data: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """(num_queries x num_points) scores in float64, where smaller is better."""
    x = data.astype(np.float64)
    q = queries.astype(np.float64)
    if metric == "euclidean":
        return np.sqrt(np.maximum(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0.0))
    if metric == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    return -(q @ x.T)


def to_value(score: np.ndarray, metric: str) -> np.ndarray:
    """The value the index reports for an oracle score (similarities are not negated)."""
    return score if metric == "euclidean" else -score


def tolerance(dtype: str) -> float:
    return 2e-4 if dtype == "float32" else 1e-10


def check_against_oracle(data, queries, ids, distances, k, metric, dtype):
    """Distances equal the oracle's k best; every returned id really has its reported distance.

    Robust to ties (equal distances may come in either id order only if numerically tied)."""
    scores = brute_force(data, queries, metric)
    tol = tolerance(dtype)
    assert ids.shape == distances.shape == (len(queries), k)
    assert ids.dtype == np.int64 and distances.dtype == np.dtype(dtype)
    best = np.sort(scores, axis=1)[:, :k]
    np.testing.assert_allclose(distances, to_value(best, metric), rtol=tol, atol=tol)
    own = np.take_along_axis(scores, ids, axis=1)
    np.testing.assert_allclose(distances, to_value(own, metric), rtol=tol, atol=tol)
    for row in ids:
        assert len(set(row.tolist())) == k


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
