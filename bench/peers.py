"""Shared code of the comparison scripts (compare_all.py, compare_faiss.py, compare_lsh.py):
Fashion-MNIST loading, timing by CPU time, recall and precision by label, the machine and BLAS
description, and runners for the peers (FAISS IndexFlatL2, IndexIVFFlat, IndexLSH; hnswlib).

Times are the calling thread's CPU seconds (time.thread_time) beside wall seconds: on a shared
machine load stretches wall time, not CPU time. Every peer runs on ONE thread.
Needs Debian's python3-numpy, python3-faiss, python3-hnswlib (scripts/setup.sh bench); run with
/usr/bin/python3.
"""
import gzip
import os
import platform
import subprocess
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

DATA = os.environ.get("PSTABLE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
K = 10


def _idx(path):
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        raw = f.read()
    if raw[:3] != b"\x00\x00\x08":
        raise SystemExit(f"{path} is not an IDX file of unsigned bytes")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, int(np.prod(dims)), 4 + 4 * len(dims)).reshape(dims)


def read_idx_images(path, rows=None):
    """Images as float32 rows with pixels in [0, 1] (the first `rows` only, if given)."""
    x = _idx(path)
    x = x.reshape(x.shape[0], -1)[:rows]
    return np.ascontiguousarray(x, dtype=np.float32) / np.float32(255)


def read_idx_labels(path, rows=None):
    return _idx(path)[:rows].astype(np.int32)


def fashion(num_queries=None, data=DATA):
    """(base, base_labels, queries, query_labels): 60,000 training images, the first
    `num_queries` test images (all 10,000 if None)."""
    p = lambda name: os.path.join(data, name)  # noqa: E731
    if not os.path.exists(p("train-images-idx3-ubyte.gz")):
        raise SystemExit(f"Fashion-MNIST not found in {data}; run scripts/setup.sh data")
    return (read_idx_images(p("train-images-idx3-ubyte.gz")),
            read_idx_labels(p("train-labels-idx1-ubyte.gz")),
            read_idx_images(p("t10k-images-idx3-ubyte.gz"), num_queries),
            read_idx_labels(p("t10k-labels-idx1-ubyte.gz"), num_queries))


def timed(fn):
    """(fn(), wall seconds, this thread's CPU seconds)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = fn()
    return result, time.perf_counter() - wall, time.thread_time() - cpu


def recall(found, truth):
    """Mean |found ∩ truth| / k over the queries (ids < 0 count as misses)."""
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / len(t) for f, t in zip(found, truth)]))


def precision_by_label(found, base_labels, query_labels):
    """Mean share of the k results whose label is the query's (the report's "mAP")."""
    found = np.asarray(found)
    labels = np.where(found >= 0, base_labels[np.clip(found, 0, None)], -1)
    return float(np.mean(labels == query_labels[:, None]))


def machine():
    """One line: CPU model, logical cores, OPENBLAS_* variables, Python, numpy."""
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    return (f"{model}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}; "
            f"OPENBLAS env {env}; numpy {np.__version__}")


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                f"threads={i.get('num_threads')}" for i in threadpool_info()]
    except Exception as e:  # threadpoolctl missing or failing: not essential
        return [f"threadpoolctl unavailable: {e}"]


def _faiss():
    try:
        import faiss
    except ImportError:
        raise SystemExit("FAISS is missing; run scripts/setup.sh bench (python3-faiss)")
    faiss.omp_set_num_threads(1)
    return faiss


def _row(name, ids, wall, cpu, nq, truth, base_labels, query_labels, build, memory, visited=None,
         **extra):
    return dict(name=name, recall=recall(ids, truth),
                precision=precision_by_label(ids, base_labels, query_labels),
                qps=nq / cpu if cpu > 0 else float("nan"), wall_qps=nq / wall,
                build_seconds=build, memory_bytes=memory, visited=visited, **extra)


def faiss_flat(base, queries, k=K):
    """(ids, row dict fields) of FAISS IndexFlatL2: the exact peer and the ground truth."""
    faiss = _faiss()
    (index, _, build) = timed(lambda: _add(faiss.IndexFlatL2(base.shape[1]), base))
    index.search(queries[:50], k)  # warm-up
    (_, ids), wall, cpu = timed(lambda: index.search(queries, k))
    return ids, dict(wall=wall, cpu=cpu, build=build, memory=base.nbytes, visited=len(base))


def _add(index, base, train=False):
    if train:
        index.train(base)
    index.add(base)
    return index


def _faiss_bytes(index):
    return int(_faiss().serialize_index(index).size)


def run_peers(base, base_labels, queries, query_labels, truth, k=K, target=0.90,
              lsh_bits=(256, 512, 1024, 2048), hnsw_efs=(10, 16, 24, 32, 48, 64, 96, 128),
              nprobes=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32), log=print):
    """Rows of every approximate peer: IVFFlat (nlist 256, each nprobe up to the first reaching
    `target` recall), IndexLSH (each nbits) and hnswlib (M 16, each ef up to `target`)."""
    faiss = _faiss()
    nq, dim = queries.shape
    rows = []
    args = lambda: (nq, truth, base_labels, query_labels)  # noqa: E731

    quantizer = faiss.IndexFlatL2(dim)
    ivf, _, build = timed(lambda: _add(faiss.IndexIVFFlat(quantizer, dim, 256), base, True))
    memory = _faiss_bytes(ivf)
    sizes = faiss.vector_to_array(ivf.invlists.get_sizes()) if hasattr(ivf.invlists, "get_sizes") \
        else np.array([ivf.invlists.list_size(i) for i in range(ivf.nlist)])
    centroid_d, lists = quantizer.search(queries, max(nprobes))
    for nprobe in nprobes:
        ivf.nprobe = nprobe
        (_, ids), wall, cpu = timed(lambda: ivf.search(queries, k))
        visited = float(np.mean(sizes[lists[:, :nprobe]].sum(axis=1))) + ivf.nlist
        rows.append(_row(f"FAISS IndexIVFFlat nlist=256 nprobe={nprobe}", ids, wall, cpu, *args(),
                         build, memory, visited, family="ivf"))
        log(f"  ivf nprobe={nprobe}: recall {rows[-1]['recall']:.3f}")
        if rows[-1]["recall"] >= target:
            break

    for bits in lsh_bits:
        lsh, _, build = timed(lambda: _add(faiss.IndexLSH(dim, bits, True, True), base, True))
        (_, ids), wall, cpu = timed(lambda: lsh.search(queries, k))
        rows.append(_row(f"FAISS IndexLSH nbits={bits}", ids, wall, cpu, *args(), build,
                         _faiss_bytes(lsh), len(base), family="faiss_lsh"))
        log(f"  faiss lsh nbits={bits}: recall {rows[-1]['recall']:.3f}")

    try:
        import hnswlib
    except ImportError:
        raise SystemExit("hnswlib is missing; run scripts/setup.sh bench (python3-hnswlib)")
    hnsw = hnswlib.Index(space="l2", dim=dim)
    hnsw.init_index(max_elements=len(base), M=16, ef_construction=100)
    _, _, build = timed(lambda: hnsw.add_items(base, num_threads=1))
    with tempfile.TemporaryDirectory() as tmp:
        hnsw.save_index(os.path.join(tmp, "h.bin"))
        memory = os.path.getsize(os.path.join(tmp, "h.bin"))
    hnsw.set_num_threads(1)
    for ef in hnsw_efs:
        hnsw.set_ef(max(ef, k))
        (ids, _), wall, cpu = timed(lambda: hnsw.knn_query(queries, k=k, num_threads=1))
        rows.append(_row(f"hnswlib M=16 efC=100 ef={ef}", ids.astype(np.int64), wall, cpu,
                         *args(), build, memory, None, family="hnsw"))
        log(f"  hnsw ef={ef}: recall {rows[-1]['recall']:.3f}")
        if rows[-1]["recall"] >= target:
            break
    return rows
