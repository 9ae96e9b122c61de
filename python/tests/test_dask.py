"""pstable.dask on a real LocalCluster of 2 worker processes: sharded results against the
single-machine index (the oracle, itself tested against brute force), changes, files, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pstable

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
from pstable.dask import ShardedIndex, ShardLostError  # noqa: E402

DIM = 12


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each. The tests that kill a worker come last; each nanny
    restarts its worker, and each such test first waits for both."""
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=":0", silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def points(rng, n, dim=DIM):
    """Clustered rows with exact duplicates spread over the partitions (ties across shards)."""
    centres = rng.normal(0, 4, (8, dim))
    x = (centres[rng.integers(0, 8, n)] + rng.normal(0, 1, (n, dim))).astype(np.float32)
    x[n // 2 + 1: n // 2 + 40] = x[1:40]  # the same point under two ids in different shards
    return x


def assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert np.asarray(g).dtype == np.asarray(w).dtype


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip", "manhattan"])
def test_exact_identical_to_exact_index(client, metric):
    rng = np.random.default_rng(1)
    x = points(rng, 1200)
    queries = np.concatenate([x[5:25], rng.normal(0, 4, (30, DIM)).astype(np.float32)])
    single = pstable.ExactIndex(DIM, metric=metric)
    single.add(x)
    sharded = ShardedIndex.build(da.from_array(x, chunks=(400, -1)), kind="exact", metric=metric,
                                 client=client)
    assert sharded.num_shards == 3 and sharded.size == len(x)
    for q in (queries, queries[:5], queries[7]):  # GEMM batch, the scan path, one 1-D query
        assert_same(sharded.search(q, 10, return_counts=True), single.search(q, 10, return_counts=True))
    # k larger than a shard: shards answer with what they hold, the merge still has k.
    small = ShardedIndex.build([x[:3], x[3:200]], kind="exact", metric=metric, client=client)
    ref = pstable.ExactIndex(DIM, metric=metric)
    ref.add(x[:200])
    assert_same(small.search(queries, 8), ref.search(queries, 8))


def test_ties_across_shards_order_by_id(client):
    x = np.zeros((6, 2), dtype=np.float32)
    x[:, 0] = [1, 0, 1, 0, 1, 0]  # ids 0, 2, 4 and 1, 3, 5 are the same two points
    sharded = ShardedIndex.build([x[:3], x[3:]], kind="exact", client=client)
    ids, dist = sharded.search(np.array([0.9, 0.0]), 6)
    assert ids.tolist() == [0, 2, 4, 1, 3, 5]
    np.testing.assert_allclose(dist, [0.1] * 3 + [0.9] * 3, rtol=1e-6)


E2LSH = dict(num_tables=6, num_hashes=4, bucket_width=3.0, num_probes=4, seed=7)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_e2lsh_identical_to_one_index(client, metric):
    rng = np.random.default_rng(2)
    x = points(rng, 1500)
    queries = np.concatenate([x[:20], rng.normal(0, 4, (30, DIM)).astype(np.float32)])
    single = pstable.E2LSHIndex(DIM, metric=metric, **E2LSH)
    single.add(x)
    sharded = ShardedIndex.build(da.from_array(x, chunks=(500, -1)), kind="e2lsh", metric=metric,
                                 client=client, **E2LSH)
    assert sharded.params == single.params
    want = single.search(queries, 10, return_counts=True, return_probed=True)
    assert_same(sharded.search(queries, 10, return_counts=True, return_probed=True), want)


def test_e2lsh_sq8_storage_identical_to_one_index(client, tmp_path):
    rng = np.random.default_rng(12)
    x = points(rng, 1200)
    params = dict(E2LSH, storage="sq8")
    single = pstable.E2LSHIndex(DIM, **params)
    single.add(x)
    sharded = ShardedIndex.build(da.from_array(x, chunks=(400, -1)), kind="e2lsh", client=client,
                                 **params)
    want = single.search(x[:30], 10, return_counts=True)
    assert_same(sharded.search(x[:30], 10, return_counts=True), want)
    sharded.save(tmp_path / "idx")
    assert ShardedIndex.load(tmp_path / "idx", client).params["storage"] == "sq8"


def test_e2lsh_min_collisions_above_one_is_a_superset(client):
    # With m > 1 a shard with fewer than k points colliding m times tops up from lower counts on
    # its own: the shards see more candidates than the single index, never fewer.
    rng = np.random.default_rng(3)
    x = points(rng, 1500)
    queries = rng.normal(0, 4, (40, DIM)).astype(np.float32)
    params = dict(E2LSH, min_collisions=3)
    single = pstable.E2LSHIndex(DIM, **params)
    single.add(x)
    sharded = ShardedIndex.build(da.from_array(x, chunks=(500, -1)), kind="e2lsh", client=client,
                                 **params)
    _, d1, v1 = single.search(queries, 10, return_counts=True)
    _, d2, v2 = sharded.search(queries, 10, return_counts=True)
    assert np.all(d2 <= d1) and np.all(v2 >= v1)


def test_user_ids(client):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (600, DIM)).astype(np.float32)  # no ties: the user order is irrelevant
    user = rng.permutation(10_000)[:600].astype(np.int64) * 3
    single = pstable.ExactIndex(DIM)
    single.add(x)
    sharded = ShardedIndex.build([x[:250], x[250:]], kind="exact", client=client, ids=user)
    ids, dist = sharded.search(x[:30], 5)
    want_ids, want_dist = single.search(x[:30], 5)
    np.testing.assert_array_equal(ids, user[want_ids])
    np.testing.assert_array_equal(dist, want_dist)
    with pytest.raises(ValueError, match="distinct"):
        ShardedIndex.build([x[:2]], client=client, ids=[5, 5])
    with pytest.raises(ValueError, match="already in the index"):
        sharded.add(x[:2], ids=user[:2])
    sharded.add(x[:2], ids=[1, 2])
    assert sharded.size == 602


@pytest.mark.parametrize("kind", ["exact", "e2lsh"])
def test_remove_add_save_load(client, kind, tmp_path):
    rng = np.random.default_rng(5)
    x = points(rng, 1200)
    extra = rng.normal(0, 4, (50, DIM)).astype(np.float32)
    queries = np.concatenate([x[:10], rng.normal(0, 4, (30, DIM)).astype(np.float32)])
    params = E2LSH if kind == "e2lsh" else {}
    gone = np.array([0, 3, 401, 402, 1100, 7])
    sharded = ShardedIndex.build(da.from_array(x, chunks=(400, -1)), kind=kind, client=client,
                                 **params)
    sharded.remove(gone)
    with pytest.raises(ValueError, match=r"not in the index.*\[3\]"):
        sharded.remove([5, 3])  # 3 is gone: nothing is removed, 5 stays
    with pytest.raises(ValueError, match="distinct"):
        sharded.remove([5, 5])
    sharded.add(extra[:20], shard=1)  # ids 1200..1219, appended to an existing shard
    sharded.add(da.from_array(extra[20:], chunks=(15, -1)))  # ids 1220..1249, two new shards
    assert sharded.num_shards == 5 and sharded.size == 1250 - len(gone)

    # The oracle: the single index with the same history (ExactIndex has no remove: the kept
    # rows, ids mapped back).
    all_rows = np.concatenate([x, extra])
    keep = np.setdiff1d(np.arange(len(all_rows)), gone)
    if kind == "e2lsh":
        single = pstable.E2LSHIndex(DIM, **params)
        single.add(x)
        single.remove(gone)
        single.add(extra)

        def oracle(q, k):
            return single.search(q, k, return_counts=True)
    else:
        single = pstable.ExactIndex(DIM)
        single.add(all_rows[keep])

        def oracle(q, k):
            ids, dist, visited = single.search(q, k, return_counts=True)
            return keep[ids], dist, visited

    want = oracle(queries, 10)
    assert_same(sharded.search(queries, 10, return_counts=True), want)
    assert not np.isin(want[0], gone).any()
    held = sharded.memory_bytes
    sharded.compact()
    assert_same(sharded.search(queries, 10, return_counts=True), want)
    assert sharded.memory_bytes < held or kind == "exact"

    path = tmp_path / "idx"
    sharded.save(path)
    sharded.save(path)  # replaces the previous directory
    assert sorted(os.listdir(tmp_path)) == ["idx"]  # no temporary left behind
    assert len([f for f in os.listdir(path) if f.endswith(".pst")]) == 5
    loaded = ShardedIndex.load(path, client)
    assert (loaded.kind, loaded.size, loaded.params) == (kind, sharded.size, sharded.params)
    assert_same(loaded.search(queries, 10, return_counts=True), want)
    # The loaded index keeps changing: ids continue, removed stay removed.
    loaded.remove([5])
    loaded.save(path)  # the same directory: its shards now hold the removal
    # What Dask runs when a worker dies now: re-open from the directory as it is, then replay
    # the changes made since load; the removal the files already hold must be skipped.
    from pstable.dask import _load_shard, _remove_ids

    version = loaded._versions[0]  # id 5 is in shard 0 (rows 0..399)
    reopened = _load_shard(str(path), 0, False)
    assert reopened.version == version  # the count the client's next change will expect
    replayed = _remove_ids(reopened, version - 1, np.array([5]))  # the recorded removal
    assert replayed.version == version and 5 not in replayed.ids
    # Another index saved to the same directory: a shard of `loaded` is never re-opened from it.
    other = ShardedIndex.build([x[:30], x[30:60]], kind, client=client, **params)
    other.save(path)
    with pytest.raises(pstable.dask.ShardLostError, match="holds another sharded index"):
        _load_shard(str(path), 0, False, loaded._uid)
    assert _load_shard(str(path), 0, False, other._uid).size == 30
    loaded.add(extra[:1])
    ids, _ = loaded.search(extra[0], 2)
    assert ids.tolist() == [1200, 1250]  # the same point twice: ties by id
    assert 5 not in loaded.search(x[5], 5)[0] and loaded.size == sharded.size


def test_bad_input(client, tmp_path):
    x = np.ones((10, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="kind"):
        ShardedIndex.build([x], kind="hnsw", client=client)
    with pytest.raises(ValueError, match="no E2LSH parameters"):
        ShardedIndex.build([x], kind="exact", client=client, num_tables=3)
    with pytest.raises(ValueError, match="num_tables"):
        ShardedIndex.build([x], kind="e2lsh", client=client, num_tables=0)
    with pytest.raises(TypeError, match="dask array or a list"):
        ShardedIndex.build(x, client=client)
    bad = x.copy()
    bad[4, 1] = np.nan
    with pytest.raises(pstable.InvalidData):  # raised on the worker, arrives as itself
        ShardedIndex.build([x, bad], client=client)
    index = ShardedIndex.build([x, x], client=client)
    with pytest.raises(ValueError, match="k must be >= 1"):
        index.search(x, 0)
    ids, dist = index.search(x[:2], 21)  # 20 points: padded as a single index pads
    assert (ids[:, 20] == -1).all() and np.isinf(dist[:, 20]).all() and (ids[:, :20] >= 0).all()
    with pytest.raises(ValueError, match="columns"):
        index.search(np.ones((2, 4)), 1)
    with pytest.raises(pstable.InvalidData):
        index.search(np.full((2, 3), np.nan), 1)
    res = index.search(x, 1, return_probed=True)  # an exact index probes no bucket
    assert res.metric == "euclidean" and (res[2] == 0).all() and (res.probed == 0).all()
    with pytest.raises(OSError):
        ShardedIndex.load(tmp_path / "missing", client)


def test_tune_auto_shares_one_parameter_set(client):
    rng = np.random.default_rng(6)
    x = points(rng, 1500)
    sharded = ShardedIndex.build(da.from_array(x, chunks=(500, -1)), kind="e2lsh", client=client,
                                 tune=dict(k=5, target_recall=0.8, num_queries=50,
                                           hash_counts=(4,), probe_counts=(0, 4), max_tables=8,
                                           distance_us=0.01, lookup_us=0.05, hash_us=0.01,
                                           entry_us=0.002), seed=9)
    p = sharded.params
    assert p["seed"] == 9 and p["min_collisions"] == 1
    single = pstable.E2LSHIndex(DIM, **p)
    single.add(x)
    assert_same(sharded.search(x[:20], 5), single.search(x[:20], 5))


def test_import_pstable_does_not_import_dask():
    code = "import sys, pstable; assert 'dask' not in sys.modules and 'distributed' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))


def test_changes_apply_once_and_shards_open_mapped_when_pstable_can(tmp_path, monkeypatch):
    from pstable.dask import _open_index, _remove_ids, _Shard  # the worker-side steps

    x = np.random.default_rng(9).normal(0, 1, (50, DIM)).astype(np.float32)
    saved = pstable.E2LSHIndex(DIM, **E2LSH)
    saved.add(x)
    saved.save(tmp_path / "a.pst")
    shard = _Shard(_open_index(str(tmp_path / "a.pst"), True), np.arange(50, dtype=np.int64) + 100)
    _remove_ids(shard, 0, np.array([103]))
    assert 3 not in shard.index and shard.ids[3] == -1 and shard.version == 1
    _remove_ids(shard, 0, np.array([103]))  # Dask re-running the same change: a no-op
    assert shard.version == 1 and shard.index.size == 49

    real_load, asked = pstable.load, []

    def load(path, mmap=False):  # a pstable.load that can map files
        asked.append(mmap)
        return real_load(path)

    monkeypatch.setattr(pstable, "load", load)
    _open_index(str(tmp_path / "a.pst"), True)
    _open_index(str(tmp_path / "a.pst"), False)
    assert asked == [True, False]


def kill_one_worker_during(client, index, queries, k):
    """Runs index.search in a thread and kills (SIGKILL) the process of the worker holding shard
    0 while that worker runs its search task; returns the search's result or exception."""
    pids = client.run(os.getpid)
    victim = index.shard_workers()[0][0]
    out = {}

    def run():
        try:
            out["result"] = index.search(queries, k)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while not any(key.startswith("_search_shard") for key in client.processing()[victim]):
        assert time.monotonic() < deadline and t.is_alive(), "the search never reached the worker"
        time.sleep(0.01)
    os.kill(pids[victim], signal.SIGKILL)
    assert t.is_alive()  # the kill came during the search
    t.join(120)
    assert not t.is_alive()
    return out


@pytest.mark.parametrize("source", ["saved files", "dask array", "numpy list"])
def test_killed_worker_gives_the_answer_or_names_the_shard(client, tmp_path, source):
    c = client
    c.wait_for_workers(2)  # a worker killed before is back (its nanny restarts it)
    rng = np.random.default_rng(7)
    x = points(rng, 24_000, dim=32)
    queries = rng.normal(0, 4, (2000, 32)).astype(np.float32)
    single = pstable.ExactIndex(32)
    single.add(x)
    want = single.search(queries, 10)
    if source == "saved files":  # lineage: the shard's file
        ShardedIndex.build([x[:12_000], x[12_000:]], client=c).save(tmp_path / "idx")
        index = ShardedIndex.load(tmp_path / "idx", c)
    elif source == "dask array":  # lineage: the partition's graph
        index = ShardedIndex.build(da.from_array(x, chunks=(12_000, -1)), client=c)
    else:  # scattered numpy arrays: no lineage
        index = ShardedIndex.build([x[:12_000], x[12_000:]], client=c)
    out = kill_one_worker_during(c, index, queries, 10)
    if source == "numpy list" and "error" in out:  # a partial answer is never acceptable
        assert isinstance(out["error"], ShardLostError)
        assert "shard 0 of 2" in str(out["error"])
    else:
        assert "error" not in out, out.get("error")
        assert_same(out["result"], want)  # the lost shard was rebuilt on the other worker
