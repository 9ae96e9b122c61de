"""A tiny pure-numpy stand-in for the `pstable` Python module, FOR TESTS ONLY.

It mirrors the planned binding's API (ExactIndex, E2LSHIndex, load, search with return_counts)
so the web app and its tests run before the compiled module is available. Tests select it
explicitly by module name; the app's default backend is the real `pstable`.
"""
import pickle

import numpy as np


class _Base:
    def __init__(self, dim, metric="euclidean", dtype="float32"):
        if metric not in ("euclidean", "cosine"):
            raise ValueError(f"unknown metric {metric!r}")
        self.dim, self.metric, self.dtype = int(dim), metric, dtype
        self.data = np.zeros((0, self.dim), np.float32)

    def _prep(self, x):
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) array, got {x.shape}")
        if self.metric == "cosine":
            n = np.linalg.norm(x, axis=1, keepdims=True)
            x = x / np.where(n > 0, n, 1)
        return x

    def add(self, x):
        x = self._prep(x)
        self.data = np.vstack([self.data, x])
        self._added(x, len(self.data) - len(x))

    def _added(self, x, first_id):
        pass

    def _rank(self, q, candidates, k):
        cand = np.asarray(candidates, np.int64)
        if self.metric == "cosine":
            score = self.data[cand] @ q
            order = np.argsort(-score, kind="stable")[:k]
        else:
            score = np.sqrt(np.maximum(((self.data[cand] - q) ** 2).sum(1), 0))
            order = np.argsort(score, kind="stable")[:k]
        ids = np.full(k, -1, np.int64)
        out = np.full(k, np.nan, np.float32)
        ids[:len(order)], out[:len(order)] = cand[order], score[order]
        return ids, out

    def search(self, queries, k, num_threads=1, return_counts=False):
        q = self._prep(queries)
        ids = np.empty((len(q), k), np.int64)
        dist = np.empty((len(q), k), np.float32)
        visited = np.empty(len(q), np.int64)
        for i, row in enumerate(q):
            cand = self._candidates(row)
            ids[i], dist[i] = self._rank(row, cand, k)
            visited[i] = len(cand)
        return (ids, dist, visited) if return_counts else (ids, dist)

    def save(self, path):
        with open(path, "wb") as f:
            pickle.dump(self, f)


class ExactIndex(_Base):
    def _candidates(self, q):
        return np.arange(len(self.data))

    def search(self, queries, k, num_threads=1, return_counts=False):
        """Blocks of queries at once through a matrix product (the loop in _Base is slow)."""
        q = self._prep(queries)
        norms = (self.data.astype(np.float64) ** 2).sum(1)
        ids, dist = [], []
        for lo in range(0, len(q), 256):
            block = q[lo:lo + 256]
            dots = block @ self.data.T
            score = -dots if self.metric == "cosine" else norms[None, :] - 2 * dots
            top = np.argpartition(score, min(k, score.shape[1] - 1), axis=1)[:, :k]
            for row, cand in zip(block, top):
                i, d = self._rank(row, cand, k)
                ids.append(i)
                dist.append(d)
        ids, dist = np.array(ids), np.array(dist)
        visited = np.full(len(q), len(self.data), np.int64)
        return (ids, dist, visited) if return_counts else (ids, dist)


class E2LSHIndex(_Base):
    def __init__(self, dim, metric="euclidean", dtype="float32", num_tables=10, num_hashes=8,
                 bucket_width=4.0, num_probes=0, seed=1):
        super().__init__(dim, metric, dtype)
        rng = np.random.default_rng(seed)
        self.L, self.k, self.w = num_tables, num_hashes, float(bucket_width)
        self.a = rng.standard_normal((dim, num_tables * num_hashes)).astype(np.float32)
        self.b = rng.uniform(0, self.w, num_tables * num_hashes).astype(np.float32)
        self.tables = [dict() for _ in range(num_tables)]

    def _keys(self, x):
        h = np.floor((x @ self.a + self.b) / self.w).astype(np.int64).reshape(len(x), self.L, self.k)
        return [[row[t].tobytes() for t in range(self.L)] for row in h]

    def _added(self, x, first_id):
        for i, keys in enumerate(self._keys(x)):
            for t, key in enumerate(keys):
                self.tables[t].setdefault(key, []).append(first_id + i)

    def _candidates(self, q):
        keys = self._keys(q[None, :])[0]
        found = [self.tables[t].get(key, []) for t, key in enumerate(keys)]
        return np.unique(np.concatenate([np.asarray(f, np.int64) for f in found])) if found else []


def load(path):
    with open(path, "rb") as f:
        return pickle.load(f)
