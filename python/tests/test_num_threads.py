"""The default thread count of batch calls: set/get, PSTABLE_NUM_THREADS, the CPU affinity mask,
and searches that answer the same with any number of threads (issue 14, item 6)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import pstable


@pytest.fixture()
def restore_default():
    """Puts the process-wide default back after the test (0 = all allowed CPUs)."""
    yield
    pstable.set_num_threads(0)


def allowed_cpus() -> int:
    """The oracle for 0: CPUs in this process's affinity mask (the cgroup quota may lower it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def child(code: str, prefix: list[str] | None = None, **env: str) -> str:
    """stdout of a fresh interpreter running `code` with pstable importable as it is here."""
    environment = dict(os.environ)
    environment.pop("PSTABLE_NUM_THREADS", None)
    environment.update(env)
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(pstable.__file__)), environment.get("PYTHONPATH", "")]
    )
    out = subprocess.run(
        (prefix or []) + [sys.executable, "-c", code],
        env=environment, capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


GET = "import pstable; print(pstable.get_num_threads())"


def test_set_and_get(restore_default):
    pstable.set_num_threads(3)
    assert pstable.get_num_threads() == 3
    pstable.set_num_threads(1000)
    assert pstable.get_num_threads() == 256  # capped
    with pytest.raises(pstable.InvalidArgument, match="must be >= 0"):
        pstable.set_num_threads(-1)
    assert pstable.get_num_threads() == 256  # unchanged by the failure
    with pytest.raises(pstable.InvalidArgument, match="out of range"):
        pstable.set_num_threads(2**31)
    with pytest.raises(TypeError, match="must be an integer"):
        pstable.set_num_threads(2.0)
    pstable.set_num_threads(None)
    default = pstable.get_num_threads()
    assert 1 <= default <= allowed_cpus()
    pstable.set_num_threads(0)
    assert pstable.get_num_threads() == default


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_results_do_not_depend_on_the_thread_count(kind, metric, rng, restore_default):
    data = rng.standard_normal((3000, 24)).astype(np.float32)
    queries = rng.standard_normal((700, 24)).astype(np.float32)
    if kind == "exact":
        index = pstable.ExactIndex(24, metric=metric)
    else:
        index = pstable.E2LSHIndex(24, metric=metric, num_tables=6, num_hashes=4, seed=5)
    index.add(data)
    ids1, dist1, visited1 = index.search(queries, 10, num_threads=1, return_counts=True)
    for threads in (2, 3, 8, 0, None):
        ids, dist, visited = index.search(queries, 10, num_threads=threads, return_counts=True)
        assert np.array_equal(ids, ids1) and np.array_equal(dist, dist1), threads
        assert np.array_equal(visited, visited1)
    pstable.set_num_threads(4)  # the default the next call uses
    ids, dist = index.search(queries, 10)
    assert np.array_equal(ids, ids1) and np.array_equal(dist, dist1)
    truth1 = pstable.ground_truth(data, queries[:50], 5, metric=metric, num_threads=1)
    truth = pstable.ground_truth(data, queries[:50], 5, metric=metric)
    assert np.array_equal(truth[0], truth1[0]) and np.array_equal(truth[1], truth1[1])


def test_negative_num_threads_is_a_value_error(rng):
    index = pstable.ExactIndex(4)
    index.add(rng.standard_normal((10, 4)))
    with pytest.raises(ValueError, match="num_threads"):
        index.search(rng.standard_normal((20, 4)), 1, num_threads=-2)


def test_the_environment_variable_sets_the_default():
    unset = int(child(GET))
    assert 1 <= unset <= allowed_cpus()
    assert child(GET, PSTABLE_NUM_THREADS="3") == "3"
    assert child(GET, PSTABLE_NUM_THREADS=" 2\n") == "2"
    assert child(GET, PSTABLE_NUM_THREADS="100000") == "256"
    for ignored in ("0", "", "-1", "lots", "1.5"):
        assert int(child(GET, PSTABLE_NUM_THREADS=ignored)) == unset, ignored
    # set_num_threads wins over the environment.
    assert child("import pstable; pstable.set_num_threads(5); print(pstable.get_num_threads())",
                 PSTABLE_NUM_THREADS="3") == "5"


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")
def test_taskset_restricts_all_cores_to_one_cpu():
    cpu = min(os.sched_getaffinity(0))
    code = (
        "import numpy as np, pstable\n"
        "index = pstable.ExactIndex(8); index.add(np.eye(8, dtype=np.float32))\n"
        "ids, _ = index.search(np.eye(8, dtype=np.float32)[[0] * 64], 1)\n"
        "assert (ids == 0).all()\n"
        "print(pstable.get_num_threads())\n"
    )
    assert child(code, prefix=["taskset", "-c", str(cpu)]) == "1"
