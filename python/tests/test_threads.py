"""The GIL is released during search and add, so other Python threads run meanwhile."""

from __future__ import annotations

import threading

import numpy as np

import pstable


def test_python_runs_while_a_search_is_in_cpp(rng):
    """The main thread executes Python while another thread is inside the C++ search.

    `active_calls()` is incremented by C++ after it released the GIL and decremented before it
    takes it back. If search kept the GIL, no Python code could run while the count is positive,
    so the main thread could never observe it: no timing is involved in the assertion.
    """
    data = rng.standard_normal((20000, 64)).astype(np.float32)
    queries = rng.standard_normal((64, 64)).astype(np.float32)
    index = pstable.ExactIndex(64)
    index.add(data)
    seen = threading.Event()
    searches = []

    def worker():
        while not seen.is_set() and len(searches) < 500:
            searches.append(index.search(queries, 10))

    thread = threading.Thread(target=worker)
    thread.start()
    counter_during_search = 0
    try:
        while thread.is_alive() and not seen.is_set():
            if index._impl.active_calls() > 0:
                # Python bytecode running here while C++ searches: count some of it.
                while index._impl.active_calls() > 0 and counter_during_search < 10**6:
                    counter_during_search += 1
                seen.set()
    finally:
        seen.set()
        thread.join()
    assert counter_during_search > 0
    assert searches and searches[0][0].shape == (64, 10)


def test_concurrent_searches_and_adds_stay_consistent(rng):
    """Searches from several threads while another thread adds: every answer is a valid one."""
    data = rng.standard_normal((3000, 16)).astype(np.float32)
    index = pstable.ExactIndex(16)
    index.add(data[:1000])
    q = data[:32]
    errors = []

    def search():
        try:
            for _ in range(10):
                ids, distances = index.search(q, 1)
                assert np.all(ids[:, 0] == np.arange(32))  # each query is its own nearest point
                assert np.all(distances[:, 0] == 0.0)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def add():
        for start in range(1000, 3000, 500):
            index.add(data[start:start + 500])

    threads = [threading.Thread(target=search) for _ in range(3)] + [threading.Thread(target=add)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(index) == 3000
