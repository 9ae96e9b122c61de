"""scikit-learn estimators over pstable's indexes: `NearestNeighbors` and `KNeighborsTransformer`.

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.manifold import Isomap
>>> from pstable.sklearn import KNeighborsTransformer
>>> pipe = make_pipeline(KNeighborsTransformer(n_neighbors=10, index="e2lsh"),
...                      Isomap(n_neighbors=10, metric="precomputed"))

Both follow scikit-learn's precomputed-neighbours convention (sklearn.neighbors.
KNeighborsTransformer): graphs are CSR matrices of shape (n_queries, n_samples_fit) whose stored
values are distances ('cosine' reports the cosine distance 1 - similarity, as scikit-learn does).
`import pstable` does not import scikit-learn; this module does (Debian: python3-sklearn).
"""

from __future__ import annotations

from typing import Any, Dict, Literal, Optional, Tuple, TypeVar, Union, overload

import numpy as np
import numpy.typing as npt

try:
    from scipy.sparse import csr_matrix
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.utils.validation import check_is_fitted
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "pstable.sklearn needs scikit-learn and scipy: apt install python3-sklearn python3-scipy "
        "(or pip install 'pstable[sklearn]')"
    ) from e

try:  # scikit-learn >= 1.6: a function (the estimator method was removed in 1.7)
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # scikit-learn < 1.6
    _sk_validate_data = None

from ._index import E2LSHIndex, ExactIndex, _core

_Self = TypeVar("_Self", bound="_NeighborsBase")


def _validate(estimator: Any, X: Any, reset: bool) -> np.ndarray:
    """scikit-learn's input validation (feature count and names recorded on fit), float32 kept."""
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, X, dtype=[np.float64, np.float32], reset=reset)
    return estimator._validate_data(X, dtype=[np.float64, np.float32], reset=reset)
from ._tune import tune

__all__ = ["NearestNeighbors", "KNeighborsTransformer"]

#: scikit-learn metric names -> pstable's (inner product is no distance: not offered).
_METRICS = {
    "euclidean": "euclidean", "l2": "euclidean", "cosine": "cosine",
    "manhattan": "manhattan", "l1": "manhattan", "cityblock": "manhattan",
}
#: The E2LSHIndex parameters lsh_params may hold: the C++ declaration (E2LSHParams::for_each_field).
_E2LSH_KEYS = tuple(name for name, _ in _core.e2lsh_params_fields())

LshParams = Union[str, Dict[str, Any], None]


class _NeighborsBase(BaseEstimator):  # type: ignore[misc]
    """fit, kneighbors, radius_neighbors and their graphs over an ExactIndex or E2LSHIndex."""

    n_neighbors: int
    metric: str
    index: str
    lsh_params: LshParams
    n_jobs: Optional[int]

    # ----------------------------------------------------------------------------- fitting
    def fit(self: _Self, X: npt.ArrayLike, y: Any = None) -> _Self:
        """Builds the index over the rows of X (float32 stays float32, anything else float64).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For an unknown metric or index, bad E2LSH parameters, NaN or infinite values.
        TypeError
            For sparse input.
        """
        X = _validate(self, X, reset=True)
        X = np.ascontiguousarray(X)
        metric = self._pstable_metric()
        if self.index == "exact":
            index: Any = ExactIndex.borrow(X, metric=metric)  # reads X in place, no copy
        elif self.index == "e2lsh":
            index = E2LSHIndex(X.shape[1], metric=metric, dtype=X.dtype, **self._lsh_params(X))
            index.add(X)
        else:
            raise ValueError(f"index must be 'exact' or 'e2lsh', got {self.index!r}")
        self.index_ = index
        self.n_samples_fit_ = X.shape[0]
        # The queries of kneighbors() without X; rows E2LSH cannot fill are answered exactly
        # over them too.
        self._fit_X = X
        return self

    def _pstable_metric(self) -> str:
        if not isinstance(self.metric, str) or self.metric not in _METRICS:
            raise ValueError(
                f"metric must be one of {sorted(_METRICS)}, got {self.metric!r} "
                "(pstable's 'ip' is no distance, so scikit-learn graphs cannot use it)"
            )
        return _METRICS[self.metric]

    def _lsh_params(self, X: np.ndarray) -> Dict[str, Any]:
        if self.lsh_params is None or (isinstance(self.lsh_params, str) and self.lsh_params == "auto"):
            k = max(1, min(self._default_k(), X.shape[0] // 5 - 1))
            if X.shape[0] < 5 * (k + 1):  # too little data to tune: defaults
                return {}
            tuned = tune(X, k=k, metric=self._pstable_metric(), max_points=20000, num_queries=200)
            return dict(tuned.params)
        if not isinstance(self.lsh_params, dict):
            raise ValueError(f"lsh_params must be 'auto' or a dict of E2LSHIndex keywords "
                             f"({', '.join(_E2LSH_KEYS)}), got {self.lsh_params!r}")
        unknown = set(self.lsh_params) - set(_E2LSH_KEYS)
        if unknown:
            raise ValueError(f"unknown lsh_params {sorted(unknown)}; known: {', '.join(_E2LSH_KEYS)}")
        return dict(self.lsh_params)

    def _default_k(self) -> int:
        return int(self.n_neighbors)

    def _threads(self) -> int:
        """n_jobs as pstable's num_threads: None -> 1, -1 (or any negative) -> all cores."""
        if self.n_jobs is None:
            return 1
        return 0 if self.n_jobs < 0 else int(self.n_jobs)

    # ---------------------------------------------------------------------------- queries
    def _queries(self, X: Any) -> Tuple[np.ndarray, bool]:
        check_is_fitted(self, "index_")
        if X is None:
            return self._fit_X, True
        return _validate(self, X, reset=False), False

    def _to_distance(self, values: np.ndarray) -> np.ndarray:
        """pstable's values as scikit-learn distances (cosine: 1 - similarity, at least 0)."""
        values = values.astype(np.float64)
        if self._pstable_metric() == "cosine":
            return np.maximum(1.0 - values, 0.0)
        return values

    def _search(self, Q: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        ids, values = self.index_.search(Q, k, num_threads=self._threads())
        missing = np.flatnonzero((ids < 0).any(axis=1))
        if len(missing):  # E2LSH found fewer than k candidates: answer those rows exactly
            exact = ExactIndex.borrow(self._fit_X, metric=self._pstable_metric())
            ids[missing], values[missing] = exact.search(Q[missing], k)
        return ids, self._to_distance(values)

    @overload
    def kneighbors(
        self, X: Optional[npt.ArrayLike] = ..., n_neighbors: Optional[int] = ...,
        return_distance: Literal[True] = ...,
    ) -> Tuple[np.ndarray, np.ndarray]: ...

    @overload
    def kneighbors(
        self, X: Optional[npt.ArrayLike], n_neighbors: Optional[int],
        return_distance: Literal[False],
    ) -> np.ndarray: ...

    @overload
    def kneighbors(
        self, X: Optional[npt.ArrayLike] = ..., n_neighbors: Optional[int] = ..., *,
        return_distance: Literal[False],
    ) -> np.ndarray: ...

    def kneighbors(
        self, X: Optional[npt.ArrayLike] = None, n_neighbors: Optional[int] = None,
        return_distance: bool = True,
    ) -> Union[Tuple[np.ndarray, np.ndarray], np.ndarray]:
        """The n_neighbors nearest fitted points of each row of X, nearest first.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), optional
            Without X, the fitted points are the queries and none is its own neighbour.
        n_neighbors : int, optional
            Defaults to the constructor's.
        return_distance : bool

        Returns
        -------
        (distances, indices) of shape (n_queries, n_neighbors), or indices alone.

        Raises
        ------
        ValueError
            If n_neighbors < 1 or exceeds the fitted points (minus one without X).
        """
        Q, own = self._queries(X)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {k!r}")
        k = int(k)
        limit = self.n_samples_fit_ - (1 if own else 0)
        if k > limit:
            raise ValueError(f"Expected n_neighbors <= n_samples_fit{' - 1' if own else ''}, but "
                             f"n_neighbors = {k}, n_samples_fit = {self.n_samples_fit_}")
        if not own:
            ids, dist = self._search(Q, k)
        else:
            # One more, then drop each point itself (or, when duplicates outrank it, the last).
            ids, dist = self._search(Q, k + 1)
            keep = ids != np.arange(len(Q))[:, None]
            keep[keep.all(axis=1), -1] = False
            ids = ids[keep].reshape(len(Q), k)
            dist = dist[keep].reshape(len(Q), k)
        return (dist, ids) if return_distance else ids

    @overload
    def radius_neighbors(
        self, X: Optional[npt.ArrayLike] = ..., radius: Optional[float] = ...,
        return_distance: Literal[True] = ..., sort_results: bool = ...,
    ) -> Tuple[np.ndarray, np.ndarray]: ...

    @overload
    def radius_neighbors(
        self, X: Optional[npt.ArrayLike], radius: Optional[float], return_distance: Literal[False],
        sort_results: bool = ...,
    ) -> np.ndarray: ...

    @overload
    def radius_neighbors(
        self, X: Optional[npt.ArrayLike] = ..., radius: Optional[float] = ..., *,
        return_distance: Literal[False], sort_results: bool = ...,
    ) -> np.ndarray: ...

    def radius_neighbors(
        self, X: Optional[npt.ArrayLike] = None, radius: Optional[float] = None,
        return_distance: bool = True, sort_results: bool = False,
    ) -> Union[Tuple[np.ndarray, np.ndarray], np.ndarray]:
        """The fitted points within `radius` (a distance; cosine: 1 - similarity) of each row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), optional
            Without X, the fitted points are the queries and none is its own neighbour.
        radius : float, optional
            Defaults to the constructor's.
        return_distance : bool
        sort_results : bool
            Results are always nearest first; accepted for scikit-learn compatibility.

        Returns
        -------
        (distances, indices): object arrays of n_queries 1-D arrays, or indices alone.
        With index='e2lsh' a point in range may be missed (docs/e2lsh.md#range-search).

        Raises
        ------
        ValueError
            For a negative or NaN radius.
        """
        Q, own = self._queries(X)
        if radius is None:
            radius = getattr(self, "radius", None)
            if radius is None:
                raise ValueError("pass radius= (this estimator has no default radius)")
        r = float(radius)
        if not r >= 0:
            raise ValueError(f"radius must be >= 0, got {r}")
        threshold = 1.0 - r if self._pstable_metric() == "cosine" else r
        offsets, ids, values = self.index_.search_radius(Q, threshold, num_threads=self._threads())
        dist = self._to_distance(values)
        n = len(Q)
        neigh_ind = np.empty(n, dtype=object)
        neigh_dist = np.empty(n, dtype=object)
        for i in range(n):
            sl = slice(offsets[i], offsets[i + 1])
            row_ids, row_dist = ids[sl], dist[sl]
            if own:
                mine = row_ids != i
                row_ids, row_dist = row_ids[mine], row_dist[mine]
            neigh_ind[i], neigh_dist[i] = row_ids, row_dist
        return (neigh_dist, neigh_ind) if return_distance else neigh_ind

    def kneighbors_graph(
        self, X: Optional[npt.ArrayLike] = None, n_neighbors: Optional[int] = None,
        mode: str = "connectivity",
    ) -> csr_matrix:
        """CSR (n_queries, n_samples_fit) k-NN graph: 1.0 ('connectivity') or the distance."""
        mode = _check_mode(mode)
        if mode == "connectivity":
            ids = self.kneighbors(X, n_neighbors, return_distance=False)
            data = np.ones(ids.size)
        else:
            dist, ids = self.kneighbors(X, n_neighbors)
            data = dist.ravel()
        indptr = np.arange(0, ids.size + 1, ids.shape[1])
        return csr_matrix((data, ids.ravel(), indptr), shape=(ids.shape[0], self.n_samples_fit_))

    def radius_neighbors_graph(
        self, X: Optional[npt.ArrayLike] = None, radius: Optional[float] = None,
        mode: str = "connectivity", sort_results: bool = False,
    ) -> csr_matrix:
        """CSR (n_queries, n_samples_fit) graph of the points within radius, nearest first."""
        mode = _check_mode(mode)
        dist, ind = self.radius_neighbors(X, radius)
        counts = np.array([len(a) for a in ind], dtype=np.int64)
        indptr = np.concatenate(([0], np.cumsum(counts)))
        cols = np.concatenate(list(ind)) if len(ind) else np.zeros(0, dtype=np.int64)
        data = (np.ones(len(cols)) if mode == "connectivity"
                else (np.concatenate(list(dist)) if len(dist) else np.zeros(0)))
        return csr_matrix((data, cols.astype(np.int64), indptr),
                          shape=(len(ind), self.n_samples_fit_))


def _check_mode(mode: str) -> str:
    if mode not in ("connectivity", "distance"):
        raise ValueError(f"mode must be 'connectivity' or 'distance', got {mode!r}")
    return mode


class NearestNeighbors(_NeighborsBase):
    """Unsupervised nearest neighbours over a pstable index (sklearn.neighbors.NearestNeighbors).

    Parameters
    ----------
    n_neighbors : int, default=5
        Default for `kneighbors` and `kneighbors_graph`.
    radius : float, default=1.0
        Default for `radius_neighbors` and `radius_neighbors_graph` (cosine: a cosine distance).
    metric : {'euclidean', 'l2', 'cosine', 'manhattan', 'l1', 'cityblock'}, default='euclidean'
    index : {'exact', 'e2lsh'}, default='exact'
        'exact' gives scikit-learn's brute-force answers; 'e2lsh' approximate ones (rows that
        find fewer than k candidates are answered exactly, so graphs are always complete).
    lsh_params : 'auto' or dict, default='auto'
        E2LSHIndex keywords (num_tables, num_hashes, bucket_width, num_probes, seed,
        min_collisions), or 'auto': `pstable.tune` for recall@n_neighbors 0.9 on the fitted data
        (a sample of at most 20000 rows, 200 held-out queries; defaults below 5 (k + 1) rows).
    n_jobs : int, optional
        Search threads; None is 1, -1 every core.

    Attributes
    ----------
    index_ : pstable.ExactIndex or pstable.E2LSHIndex
    n_samples_fit_ : int
    n_features_in_ : int
    """

    def __init__(
        self, n_neighbors: int = 5, radius: float = 1.0, metric: str = "euclidean",
        index: str = "exact", lsh_params: LshParams = "auto", n_jobs: Optional[int] = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.metric = metric
        self.index = index
        self.lsh_params = lsh_params
        self.n_jobs = n_jobs


class KNeighborsTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin,  # type: ignore[misc]
                            _NeighborsBase):
    """X -> sparse k-NN graph, as sklearn.neighbors.KNeighborsTransformer, over a pstable index.

    `transform(X)` returns a CSR (n_queries, n_samples_fit) matrix with n_neighbors entries per
    row ('connectivity': 1.0) or n_neighbors + 1 ('distance': each sample is its own neighbour at
    distance 0 when X is the fitted data, as scikit-learn does), ready for estimators taking
    `metric="precomputed"` (Isomap, TSNE, DBSCAN, KNeighborsClassifier, ...).

    Parameters
    ----------
    mode : {'distance', 'connectivity'}, default='distance'
    n_neighbors : int, default=5
    metric, index, lsh_params, n_jobs
        As for `NearestNeighbors`.
    """

    def __init__(
        self, *, mode: str = "distance", n_neighbors: int = 5, metric: str = "euclidean",
        index: str = "exact", lsh_params: LshParams = "auto", n_jobs: Optional[int] = None,
    ) -> None:
        self.mode = mode
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.index = index
        self.lsh_params = lsh_params
        self.n_jobs = n_jobs

    def _default_k(self) -> int:
        return int(self.n_neighbors) + (self.mode == "distance")

    def fit(self, X: npt.ArrayLike, y: Any = None) -> "KNeighborsTransformer":
        """Builds the index over X (see NearestNeighbors.fit)."""
        _check_mode(self.mode)
        super().fit(X)
        self._n_features_out = self.n_samples_fit_
        return self

    def transform(self, X: npt.ArrayLike) -> csr_matrix:
        """The k-NN graph of the rows of X against the fitted points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        csr_matrix of shape (n_queries, n_samples_fit)
        """
        check_is_fitted(self, "index_")
        add_one = self.mode == "distance"
        return self.kneighbors_graph(X, mode=self.mode, n_neighbors=self.n_neighbors + add_one)

    def fit_transform(self, X: npt.ArrayLike, y: Any = None) -> csr_matrix:
        """fit(X).transform(X)."""
        return self.fit(X).transform(X)

    def _more_tags(self) -> Dict[str, Any]:
        return {"_xfail_checks": {
            "check_methods_sample_order_invariance": "check is not applicable (as scikit-learn's "
                                                     "own KNeighborsTransformer)"}}
