"""Shared fixtures: a small pixel feature set and a search engine over its first images.

The backend is always pstable's compiled module (build/venv, scripts/install_python.sh); there is
no stand-in.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent / "features")]

import fmnist  # noqa: E402
import pixels  # noqa: E402

SMALL = 3000  # training images indexed by the tests


def backend_name():
    return "pstable"


def pytest_report_header(config):
    import pstable
    return f"web tests on {pstable.__file__}"


@pytest.fixture(scope="session")
def features_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("features") / "pixels"
    pixels.main(["--out", str(out)])
    return out


@pytest.fixture(scope="session")
def engine(features_dir, tmp_path_factory):
    from app import SearchEngine
    return SearchEngine(features_dir, backend_name(), limit=SMALL,
                        cache_dir=tmp_path_factory.mktemp("cache"), log=lambda *a, **k: None)


@pytest.fixture()
def client(engine):
    from app import create_app
    app = create_app(engine)
    app.config["TESTING"] = False  # errors must go through the handlers, as in production
    return app.test_client()


def exact_oracle(base, query, metric, k):
    """Brute-force top-k ids with numpy, independent of pstable."""
    base = np.asarray(base, np.float64)
    query = np.asarray(query, np.float64)
    if metric == "cosine":
        scores = base @ query / (np.linalg.norm(base, axis=1) * np.linalg.norm(query))
        order = np.argsort(-scores, kind="stable")
        return order[:k], scores[order[:k]]
    dist = np.sqrt(((base - query) ** 2).sum(1))
    order = np.argsort(dist, kind="stable")
    return order[:k], dist[order[:k]]
