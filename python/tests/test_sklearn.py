"""pstable.sklearn against scikit-learn's own estimators, in pipelines, and under its estimator
checks. Skipped when scikit-learn is not installed (Debian: python3-sklearn)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import neighbors as skn  # noqa: E402
from sklearn.cluster import DBSCAN  # noqa: E402
from sklearn.manifold import Isomap  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pstable.sklearn import KNeighborsTransformer, NearestNeighbors  # noqa: E402

METRICS = ["euclidean", "cosine", "manhattan"]
LSH = dict(num_tables=16, num_hashes=6, bucket_width=4.0, num_probes=8)


def test_import_pstable_does_not_import_sklearn():
    code = "import sys, pstable; assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def X(rng):
    return rng.standard_normal((150, 6))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("own", [True, False])
def test_exact_equals_sklearn_brute_force(metric, own, X):
    radius = 0.3 if metric == "cosine" else 2.0
    ours = NearestNeighbors(n_neighbors=5, radius=radius, metric=metric).fit(X)
    theirs = skn.NearestNeighbors(n_neighbors=5, radius=radius, metric=metric,
                                  algorithm="brute").fit(X)
    q = None if own else X[:20] + 0.01
    d1, i1 = ours.kneighbors(q)
    d2, i2 = theirs.kneighbors(q)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, atol=1e-7)
    for mode in ("connectivity", "distance"):
        g1, g2 = ours.kneighbors_graph(q, mode=mode), theirs.kneighbors_graph(q, mode=mode)
        assert g1.format == "csr" and g1.shape == g2.shape
        assert abs(g1 - g2).max() < 1e-7
        r1 = ours.radius_neighbors_graph(q, mode=mode)
        r2 = theirs.radius_neighbors_graph(q, mode=mode)
        assert r1.shape == r2.shape and r1.nnz == r2.nnz > 0
        assert abs(r1 - r2).max() < 1e-7
    rd, ri = ours.radius_neighbors(q, radius=radius / 2)
    td, ti = theirs.radius_neighbors(q, radius=radius / 2, sort_results=True)
    for a, b, c, d in zip(ri, ti, rd, td):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(c, d, atol=1e-7)
    assert ours.kneighbors(q, 3, return_distance=False).shape == (150 if own else 20, 3)


@pytest.mark.parametrize("metric", METRICS)
def test_e2lsh_graph_is_complete_and_accurate(metric, X):
    ours = NearestNeighbors(n_neighbors=5, metric=metric, index="e2lsh", lsh_params=LSH).fit(X)
    exact = NearestNeighbors(n_neighbors=5, metric=metric).fit(X)
    g = ours.kneighbors_graph(mode="distance")
    assert g.shape == (150, 150) and np.all(np.diff(g.indptr) == 5)
    assert np.all(g.indices >= 0) and np.all(g.diagonal() == 0)
    dist, ids = ours.kneighbors()
    true_d, true_i = exact.kneighbors()
    # Every reported distance is the true distance of the reported point; recall is high.
    full = exact.kneighbors(n_neighbors=149)
    lookup = [dict(zip(i.tolist(), d.tolist())) for d, i in zip(*full)]
    for row, (d, i) in enumerate(zip(dist, ids)):
        np.testing.assert_allclose(d, [lookup[row][j] for j in i], atol=1e-7)
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ids.tolist(), true_i.tolist())])
    assert recall >= 0.8


def test_auto_tuning_builds_a_tuned_index(rng):
    X = rng.standard_normal((600, 8))
    t = KNeighborsTransformer(n_neighbors=5, index="e2lsh").fit(X)
    assert t.index_.size == 600 and t.index_.params["num_tables"] >= 1
    g = t.transform(X)
    assert g.shape == (600, 600) and np.all(np.diff(g.indptr) == 6)


def test_isomap_pipeline_equals_isomap(X):
    direct = Isomap(n_neighbors=8, n_components=2).fit_transform(X)
    pipe = make_pipeline(KNeighborsTransformer(n_neighbors=8),
                         Isomap(n_neighbors=8, n_components=2, metric="precomputed"))
    np.testing.assert_allclose(np.abs(pipe.fit_transform(X)), np.abs(direct), atol=1e-6)


@pytest.mark.parametrize("index", ["exact", "e2lsh"])
def test_knn_classifier_pipeline(index, rng):
    centres = rng.standard_normal((3, 6)) * 4
    y = np.repeat(np.arange(3), 60)
    X = centres[y] + rng.standard_normal((180, 6))
    train, test = np.arange(0, 180, 2), np.arange(1, 180, 2)
    pipe = make_pipeline(
        KNeighborsTransformer(n_neighbors=7, mode="distance", index=index, lsh_params=LSH),
        skn.KNeighborsClassifier(n_neighbors=7, metric="precomputed"))
    predicted = pipe.fit(X[train], y[train]).predict(X[test])
    direct = skn.KNeighborsClassifier(n_neighbors=7).fit(X[train], y[train]).predict(X[test])
    if index == "exact":
        np.testing.assert_array_equal(predicted, direct)
    assert np.mean(predicted == y[test]) >= 0.95


def test_dbscan_on_a_radius_graph_equals_dbscan(rng):
    centres = rng.standard_normal((3, 4)) * 5
    X = centres[np.repeat(np.arange(3), 40)] + 0.5 * rng.standard_normal((120, 4))
    eps = 1.0
    graph = NearestNeighbors(radius=eps).fit(X).radius_neighbors_graph(X, mode="distance")
    ours = DBSCAN(eps=eps, min_samples=5, metric="precomputed").fit_predict(graph)
    direct = DBSCAN(eps=eps, min_samples=5).fit_predict(X)
    np.testing.assert_array_equal(ours, direct)
    # And in a pipeline through the k-NN transformer (enough neighbours to cover eps).
    pipe = make_pipeline(KNeighborsTransformer(n_neighbors=60),
                         DBSCAN(eps=eps, min_samples=5, metric="precomputed"))
    np.testing.assert_array_equal(pipe.fit_predict(X), direct)


def test_bad_arguments(X):
    with pytest.raises(ValueError, match="metric must be one of"):
        NearestNeighbors(metric="ip").fit(X)
    with pytest.raises(ValueError, match="index must be"):
        NearestNeighbors(index="hnsw").fit(X)
    with pytest.raises(ValueError, match="unknown lsh_params"):
        NearestNeighbors(index="e2lsh", lsh_params={"tables": 3}).fit(X)
    with pytest.raises(ValueError, match="mode must be"):
        KNeighborsTransformer(mode="weights").fit(X)
    nn = NearestNeighbors().fit(X)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit - 1"):
        nn.kneighbors(n_neighbors=150)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        nn.radius_neighbors(X[:2], radius=-1.0)
    with pytest.raises(ValueError, match="features"):
        nn.kneighbors(X[:2, :3])
    with pytest.raises(ValueError):
        nn.kneighbors([[np.nan] * 6])


# scikit-learn's estimator checks. None is skipped: the one xfail is scikit-learn's own for its
# KNeighborsTransformer (check_methods_sample_order_invariance, which does not apply to a graph
# whose columns are the fitted samples; it passes here). E2LSH runs with fixed parameters: 'auto'
# tunes with timed unit costs, so two fits may choose different parameters
# (check_fit_idempotent). Cosine is left out: its checks feed rows of zeros, which pstable
# refuses under cosine (ValueError: no direction) where scikit-learn gives them similarity 0;
# test_exact_equals_sklearn_brute_force covers cosine on data without zero rows.
@parametrize_with_checks([
    NearestNeighbors(),
    NearestNeighbors(metric="manhattan", index="e2lsh", lsh_params=LSH),
    KNeighborsTransformer(),
    KNeighborsTransformer(mode="connectivity", metric="manhattan"),
    KNeighborsTransformer(index="e2lsh", lsh_params=LSH),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
