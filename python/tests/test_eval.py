"""Readers and evaluator from Python, against hand-computed cases."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import pstable


def test_read_npy_and_labels(tmp_path, rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(pstable.read_npy(tmp_path / "x.npy"), x)
    y = pstable.read_npy(str(tmp_path / "x.npy"), dtype="float64")
    assert y.dtype == np.float64 and np.array_equal(y, x.astype(np.float64))
    np.save(tmp_path / "l.npy", np.array([3, 1, 2], dtype=np.int64))
    labels = pstable.read_npy_labels(tmp_path / "l.npy")
    assert labels.dtype == np.int32 and labels.tolist() == [3, 1, 2]
    np.save(tmp_path / "bad.npy", np.zeros(3, dtype=np.complex64))
    with pytest.raises(pstable.FormatError):
        pstable.read_npy(tmp_path / "bad.npy")
    with pytest.raises(pstable.IoError):
        pstable.read_npy(tmp_path / "missing.npy")


def test_read_vecs(tmp_path):
    rows = [[1.5, 2.0, -3.0], [4.0, 5.0, 6.25]]
    with open(tmp_path / "a.fvecs", "wb") as f:
        for r in rows:
            f.write(struct.pack("<i3f", 3, *r))
    np.testing.assert_array_equal(pstable.read_fvecs(tmp_path / "a.fvecs"), np.array(rows, np.float32))
    assert pstable.read_fvecs(tmp_path / "a.fvecs", max_rows=1).shape == (1, 3)
    with open(tmp_path / "a.ivecs", "wb") as f:
        f.write(struct.pack("<i2i", 2, 7, -1))
    assert pstable.read_ivecs(tmp_path / "a.ivecs").tolist() == [[7, -1]]
    with open(tmp_path / "a.bvecs", "wb") as f:
        f.write(struct.pack("<i2B", 2, 0, 255))
    assert pstable.read_bvecs(tmp_path / "a.bvecs").tolist() == [[0.0, 255.0]]
    with open(tmp_path / "t.fvecs", "wb") as f:
        f.write(struct.pack("<i2f", 3, 1.0, 2.0))  # truncated
    with pytest.raises(pstable.FormatError):
        pstable.read_fvecs(tmp_path / "t.fvecs")


def test_read_idx(tmp_path):
    pixels = bytes([0, 255, 51, 102, 0, 0, 0, 255])  # 2 images of 2 x 2
    with gzip.open(tmp_path / "img.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2) + pixels)
    img = pstable.read_idx_images(tmp_path / "img.gz")
    assert img.shape == (2, 4) and img.dtype == np.float32
    np.testing.assert_allclose(img[0], [0, 1, 0.2, 0.4], rtol=1e-6)
    assert pstable.read_idx_images(tmp_path / "img.gz", scale=False)[1].tolist() == [0, 0, 0, 255]
    with open(tmp_path / "lab", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([9, 0, 4]))
    assert pstable.read_idx_labels(tmp_path / "lab").tolist() == [9, 0, 4]
    with pytest.raises(pstable.FormatError):
        pstable.read_idx_images(tmp_path / "lab")


def test_precision_and_average_precision_hand_computed():
    base = [0, 0, 1, 1, 0, -1]
    ids = np.array([[0, 2, 1], [2, 5, -1]])
    queries = [0, 1]
    # q0: relevant at ranks 1 and 3 -> P@3 = 2/3; q1: rank 1 only -> 1/3.
    assert pstable.precision_at_k(ids, queries, base) == pytest.approx(0.5)
    np.testing.assert_allclose(pstable.precision_at_k(ids, queries, base, per_query=True), [2 / 3, 1 / 3])
    assert pstable.precision_at_k(ids, queries, base, k=1) == pytest.approx(1.0)
    # AP@3: q0 (R = 3): (1 + 2/3) / 3; q1 (R = 2): 1 / 2.
    ap = pstable.mean_average_precision((ids, None), queries, base, per_query=True)
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 3, 0.5])
    with pytest.raises(ValueError):
        pstable.precision_at_k(ids, [0], base)  # one label per query
    with pytest.raises(ValueError):
        pstable.precision_at_k(np.array([[0, 9]]), [0], base)  # id out of range
    with pytest.raises(ValueError):
        pstable.precision_at_k(ids, queries, base, k=4)


def test_recall_ground_truth_and_evaluate(rng):
    data = rng.standard_normal((200, 6)).astype(np.float32)
    queries = data[:10] + 0.001
    truth = pstable.ground_truth(data, queries, 5)
    d = np.linalg.norm(queries[:, None, :].astype(np.float64) - data[None], axis=2)
    np.testing.assert_allclose(truth[1], np.sort(d, axis=1)[:, :5], rtol=1e-4)
    assert pstable.recall_at_k(truth, truth) == 1.0
    # Replace the 5th result of every query by a far point: recall 4/5.
    worse_ids = truth[0].copy()
    worse_ids[:, 4] = np.argmax(d, axis=1)
    worse = (worse_ids, np.take_along_axis(d, worse_ids, axis=1))
    assert pstable.recall_at_k(worse, truth) == pytest.approx(0.8)
    np.testing.assert_allclose(pstable.recall_at_k(worse, truth, k=4, per_query=True), 1.0)
    labels = np.arange(200) % 3
    visited = np.full(10, 50, dtype=np.int64)
    e = pstable.evaluate((worse[0], worse[1], visited), truth, labels[:10], labels, seconds=0.5)
    assert e["k"] == 5 and e["recall"] == pytest.approx(0.8)
    assert e["mean_visited"] == 50 and e["visited_fraction"] == pytest.approx(0.25)
    assert e["queries_per_second"] == pytest.approx(20)
    assert e["mean_value"] == pytest.approx(worse[1].mean())
    assert e["precision"] == pytest.approx(pstable.precision_at_k(worse, labels[:10], labels))
    assert sorted(e["precision_per_class"]) == [0, 1, 2]
    cos = pstable.ground_truth(data, queries, 3, metric="cosine")
    assert np.all(cos[1][:, 0] > 0.99)  # similarities, best first
    with pytest.raises(TypeError):
        pstable.recall_at_k(worse[0], truth)  # recall needs distances


def test_results_know_their_metric(rng):
    # The notebook: recall of a cosine E2LSH index with the default metric gave 0.473
    # (similarities read as Euclidean distances) where metric="cosine" gave 0.719.
    data = rng.standard_normal((2000, 16)).astype(np.float32)
    queries = rng.standard_normal((50, 16)).astype(np.float32)
    index = pstable.E2LSHIndex(16, metric="cosine", num_tables=4, num_hashes=4, bucket_width=1.0)
    index.add(data)
    res = index.search(queries, 10)
    truth = pstable.ground_truth(data, queries, 10, metric="cosine")
    assert isinstance(res, pstable.Result) and isinstance(res, tuple)
    assert res.metric == "cosine" and truth.metric == "cosine"
    ids, sims = res  # still unpacks as (ids, distances)
    assert ids is res.ids and sims is res.distances and len(res) == 2
    assert res.visited.shape == (50,) and res.probed.shape == (50,)

    recall = pstable.recall_at_k(res, truth)
    assert recall == pstable.recall_at_k(res, truth, metric="cosine")
    assert recall == pstable.recall_at_k(res, truth, metric="cos")  # an alias of cosine
    assert 0.0 < recall < 1.0  # approximate: reading the values wrongly would change it
    # The oracle: cosine recall computed here from the definition.
    kth = truth.distances[:, 9:10]
    hits = (res.ids >= 0) & (res.distances >= kth - 1e-3 * np.abs(kth))
    assert recall == pytest.approx(hits.mean())

    labels = np.zeros(2000, dtype=np.int32)
    e = pstable.evaluate(res, truth, labels[:50], labels, seconds=1.0)
    assert e["recall"] == pytest.approx(recall)
    assert e["mean_visited"] == pytest.approx(res.visited.mean())  # from res.visited

    # A wrong metric, or truth of another metric, is refused with both names.
    both = r"(?s)(cosine.*euclidean|euclidean.*cosine)"
    with pytest.raises(ValueError, match=both):
        pstable.recall_at_k(res, truth, metric="euclidean")
    with pytest.raises(pstable.InvalidArgument, match=both):
        pstable.evaluate(res, truth, labels[:50], labels, seconds=1.0, metric="euclidean")
    l2_truth = pstable.ground_truth(data, queries, 10)  # no metric: Euclidean
    assert l2_truth.metric == "euclidean"
    with pytest.raises(ValueError, match=both):
        pstable.recall_at_k(res, l2_truth)
    with pytest.raises(ValueError, match=both):
        pstable.evaluate(res, l2_truth, labels[:50], labels, seconds=1.0)

    # Plain tuples record no metric: one side's metric is used, or it must be named.
    plain = (res.ids, res.distances)
    assert pstable.recall_at_k(plain, truth) == recall
    with pytest.raises(ValueError, match="metric"):
        pstable.recall_at_k(plain, (truth[0], truth[1]))
    assert pstable.recall_at_k(plain, (truth[0], truth[1]), metric="cosine") == recall


def test_result_type_counts_and_pickle(rng):
    import pickle

    data = rng.standard_normal((100, 4))
    index = pstable.ExactIndex(4, metric="ip", dtype="float64")
    index.add(data)
    res = index.search(data[:3], 2, return_counts=True)
    ids, values, visited = res  # return_counts keeps its three items
    assert res.metric == "ip" and visited is res.visited and list(visited) == [100] * 3
    one = index.search(data[0], 2)
    assert one.ids.shape == (2,) and one.metric == "ip"
    back = pickle.loads(pickle.dumps(res))
    assert isinstance(back, pstable.Result) and back.metric == "ip" and len(back) == 3
    np.testing.assert_array_equal(back.ids, res.ids)
    made = pstable.Result(ids, values, metric="ip")
    assert len(made) == 2 and made.metric == "ip" and made.visited is None
    with pytest.raises(TypeError):
        pstable.Result(ids, values, metric=3)
