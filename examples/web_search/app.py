#!/usr/bin/python3
"""Fashion-MNIST image search: the report's web application on pstable.

A person picks a test image (or uploads a 28x28 one) and sees the most similar training images,
found by an exact scan or an E2LSH index, by Euclidean distance or cosine similarity.

Usage: /usr/bin/python3 examples/web_search/app.py [--features build/features/pixels]
           [--host 127.0.0.1] [--port 5000] [--limit N] [--cache-dir build/web-cache]
"""
import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from flask import Flask, abort, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "features"))
import fmnist  # noqa: E402
import pstable_adapter as adapter  # noqa: E402
from images import png_bytes, read_upload  # noqa: E402

MAX_K = 100
TIMING_RUNS = 5  # the displayed search time is the median of this many runs of the same search
MODE_LABELS = {"exact": "Exact scan", "e2lsh": "E2LSH"}
METRIC_LABELS = {"euclidean": "Euclidean", "cosine": "Cosine"}


class BadRequest(Exception):
    """A request the user can fix; becomes a 4xx page or JSON body with `message`."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message, self.status = message, status


class SearchEngine:
    """Feature vectors, images and the four indexes (exact/E2LSH x Euclidean/cosine)."""

    def __init__(self, features_dir, backend=adapter.DEFAULT_BACKEND, limit=None, cache_dir=None,
                 settings=None, log=print):
        self.features_dir = Path(features_dir)
        self.meta = fmnist.load_meta(self.features_dir)
        base, base_labels, query, query_labels = fmnist.load_features(self.features_dir)
        n = len(base) if limit is None else min(limit, len(base))
        self.base, self.base_labels = base[:n], base_labels[:n]
        self.query, self.query_labels = query, query_labels
        self.base_images = fmnist.load_images("train")[:n]
        self.query_images = fmnist.load_images("t10k")
        self._cnn = None
        self.backend_name = backend
        module = adapter.get_backend(backend)
        tag = self.features_dir.name
        self.indexes = {}
        self.kinds = adapter.KINDS
        for kind in self.kinds:
            for metric in adapter.METRICS:
                def progress(done, total, kind=kind, metric=metric):
                    log(f"\rbuilding {kind} {metric} index: {done}/{total} vectors", end="", flush=True)
                index = adapter.load_or_build(module, kind, metric, self.base, settings, cache_dir,
                                              tag, progress)
                how = f"loaded from {index.loaded_from}" if index.loaded_from else "built"
                log(f"\r{index.describe()}: {index.size} vectors of {self.base.shape[1]} dims, "
                    f"{how} in {index.build_seconds:.1f} s", flush=True)
                self.indexes[(kind, metric)] = index

    def vector_of_image(self, image):
        """Feature vector of a new 28x28 uint8 image, computed like the stored ones."""
        if self.meta.get("kind") == "cnn":
            if self._cnn is None:
                import torch
                import train_cnn
                model = train_cnn.SmallCnn()
                model.load_state_dict(torch.load(self.features_dir / self.meta["model"], map_location="cpu"))
                self._cnn = model.eval()
            import torch
            import train_cnn
            with torch.no_grad():
                return self._cnn.features(train_cnn.to_tensor(image[None])).numpy()[0]
        return image.reshape(-1).astype(np.float32) / 255.0

    def search(self, vector, label, mode, metric, k):
        index = self.indexes[(mode, metric)]
        # One sample is noise (a first call, another process); the median of a few is not.
        runs = [index.search(vector[None, :], k)[0] for _ in range(TIMING_RUNS)]
        result = runs[0]
        valid = result.ids >= 0
        ids, scores = result.ids[valid], result.scores[valid]
        items = []
        for rank, (i, s) in enumerate(zip(ids.tolist(), scores.tolist()), 1):
            item_label = int(self.base_labels[i])
            items.append({"rank": rank, "id": i, "label": item_label, "class": fmnist.CLASS_NAMES[item_label],
                          "score": float(s), "relevant": None if label is None else item_label == label})
        relevant = sum(1 for it in items if it["relevant"])
        return {
            "mode": mode, "metric": metric, "k": k, "index": index.describe(),
            "score_name": "distance" if metric == "euclidean" else "similarity",
            "results": items, "returned": len(items),
            "relevant": None if label is None else relevant,
            "precision": None if label is None else relevant / k,
            "seconds": statistics.median(r.seconds for r in runs), "timing_runs": len(runs),
            "visited": result.visited,
            "visited_fraction": result.visited / len(self.base), "database_size": len(self.base),
        }


def shown(raw, limit=40):
    """A request value for a message: its text in double quotes, shortened, never a Python repr."""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    return '"' + (text if len(text) <= limit else text[:limit] + "...") + '"'


def vector_of_json(raw, dim):
    """A posted feature vector: a list of `dim` finite numbers, as float32."""
    if not isinstance(raw, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in raw):
        raise BadRequest(f"vector must be a JSON list of {dim} numbers")
    if len(raw) != dim:
        raise BadRequest(f"vector has {len(raw)} numbers; the stored features have {dim}")
    vector = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(vector).all() or np.abs(vector).max(initial=0) > np.finfo(np.float32).max:
        raise BadRequest("vector holds a number too large for float32 (or not finite)")
    return vector.astype(np.float32)


def parse_options(values, kinds=adapter.KINDS):
    """mode, metric and k from request values, with defaults; BadRequest on anything else."""
    mode = values.get("mode", kinds[-1])
    if mode not in kinds:
        raise BadRequest(f"unknown mode {shown(mode)}: use one of {', '.join(kinds)}")
    metric = values.get("metric", "euclidean")
    if metric not in adapter.METRICS:
        raise BadRequest(f"unknown metric {shown(metric)}: use one of {', '.join(adapter.METRICS)}")
    raw_k = values.get("k", "10")
    try:
        if isinstance(raw_k, (bool, float)):
            raise ValueError(raw_k)
        k = int(raw_k)
    except (TypeError, ValueError):
        raise BadRequest(f"k must be a whole number from 1 to {MAX_K}, got {shown(raw_k)}")
    if not 1 <= k <= MAX_K:
        raise BadRequest(f"k must be from 1 to {MAX_K}, got {k}")
    return mode, metric, k


def create_app(engine, gallery_size=48):
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20  # uploads are 28x28 images
    vendor = HERE / "node_modules" / "bootstrap" / "dist"
    if not vendor.is_dir():
        print(f"warning: {vendor} missing, the page will be unstyled; run scripts/web.sh or "
              "`npm install` in examples/web_search", file=sys.stderr)
    n_queries = len(engine.query)

    @app.context_processor
    def template_globals():
        return {"engine": engine, "modes": {k: MODE_LABELS[k] for k in engine.kinds}}

    def query_id(raw):
        try:
            if isinstance(raw, (bool, float)):
                raise ValueError(raw)
            qid = int(raw)
        except (TypeError, ValueError):
            raise BadRequest(f"query must be a test image number from 0 to {n_queries - 1}, got {shown(raw)}")
        if not 0 <= qid < n_queries:
            raise BadRequest(f"no test image {qid}: ids run from 0 to {n_queries - 1}", 404)
        return qid

    def run(values, files):
        """The search a request asks for: (query description, answer)."""
        mode, metric, k = parse_options(values, engine.kinds)
        if values.get("vector") is not None:
            vector = vector_of_json(values.get("vector"), engine.base.shape[1])
            query = {"source": "vector", "id": None, "label": None, "class": None}
            image = None
        elif files and "image" in files and files["image"].filename:
            try:
                image = read_upload(files["image"].read())
            except ValueError as error:
                raise BadRequest(f"cannot use the uploaded file: {error}")
            query = {"source": "upload", "id": None, "label": None, "class": None}
            vector = engine.vector_of_image(image)
        elif values.get("query") not in (None, ""):
            qid = query_id(values.get("query"))
            label = int(engine.query_labels[qid])
            query = {"source": "test set", "id": qid, "label": label, "class": fmnist.CLASS_NAMES[label]}
            vector, image = engine.query[qid], None
        else:
            raise BadRequest("say what to search for: a test image number (query=ID), an uploaded "
                             "image (multipart field 'image'), or a feature vector (JSON "
                             "{\"vector\": [...]})")
        answer = engine.search(vector, query["label"], mode, metric, k)
        return query, answer, image

    def wants_json():
        return request.path.startswith("/api/")

    @app.errorhandler(BadRequest)
    def bad_request(error):
        if wants_json():
            return jsonify(error=error.message, status=error.status), error.status
        return render_template("error.html", message=error.message, status=error.status), error.status

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = error.description
        if error.code == 413:
            message = f"upload too large: at most {app.config['MAX_CONTENT_LENGTH']} bytes (a 28x28 image)"
        if wants_json():
            return jsonify(error=message, status=error.code), error.code
        return render_template("error.html", message=message, status=error.code), error.code

    @app.errorhandler(Exception)
    def internal_error(error):
        app.logger.exception("unexpected error")
        message = "internal error while searching; the server keeps running, see its log"
        if wants_json():
            return jsonify(error=message, status=500), 500
        return render_template("error.html", message=message, status=500), 500

    def page_options():
        try:
            return parse_options(request.args, engine.kinds)
        except BadRequest:
            return engine.kinds[-1], "euclidean", 10

    @app.route("/")
    def home():
        mode, metric, k = page_options()
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            raise BadRequest("page must be a whole number")
        first = page * gallery_size
        if first >= n_queries:
            raise BadRequest(f"no gallery page {page}", 404)
        gallery = [{"id": i, "class": fmnist.CLASS_NAMES[int(engine.query_labels[i])]}
                   for i in range(first, min(first + gallery_size, n_queries))]
        return render_template("home.html", gallery=gallery, page=page, mode=mode, metric=metric, k=k,
                               max_k=MAX_K, metrics=METRIC_LABELS,
                               last_page=(n_queries - 1) // gallery_size)

    @app.route("/search", methods=["GET", "POST"])
    def search_page():
        values = request.form if request.method == "POST" else request.args
        query, answer, image = run(values, request.files)
        upload_png = None
        if image is not None:
            import base64
            upload_png = base64.b64encode(png_bytes(image)).decode()
        return render_template("results.html", query=query, answer=answer, upload_png=upload_png,
                               metrics=METRIC_LABELS, max_k=MAX_K)

    @app.route("/api/search", methods=["GET", "POST"])
    def api_search():
        values = request.args
        if request.method == "POST":
            if request.is_json:
                values = request.get_json(silent=True)
                if not isinstance(values, dict):
                    raise BadRequest("JSON body must be an object such as {\"query\": 3, \"k\": 10}")
            else:
                values = request.form
        query, answer, _ = run(values, request.files)
        return jsonify(query=query, **answer)

    @app.route("/api/status")
    def api_status():
        return jsonify(features=engine.features_dir.name, feature_kind=engine.meta.get("kind"),
                       dims=int(engine.base.shape[1]), database_size=len(engine.base),
                       queries=n_queries, backend=engine.backend_name, max_k=MAX_K,
                       indexes=[ix.describe() for ix in engine.indexes.values()])

    def image_response(images, raw_id, what):
        try:
            i = int(raw_id)
        except ValueError:
            raise BadRequest(f"{what} image id must be a number, got {shown(raw_id)}")
        if not 0 <= i < len(images):
            raise BadRequest(f"no {what} image {i}: ids run from 0 to {len(images) - 1}", 404)
        response = app.response_class(png_bytes(images[i]), mimetype="image/png")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.route("/img/query/<raw_id>.png")
    def query_image(raw_id):
        return image_response(engine.query_images, raw_id, "test")

    @app.route("/img/base/<raw_id>.png")
    def base_image(raw_id):
        return image_response(engine.base_images, raw_id, "training")

    @app.route("/vendor/bootstrap/<path:filename>")
    def bootstrap_file(filename):
        if not vendor.is_dir():
            abort(404, "Bootstrap is not installed: run `npm install` in examples/web_search")
        return send_from_directory(vendor, filename)

    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", default=str(fmnist.FEATURES_ROOT / "pixels"),
                        help="feature set folder (examples/features/pixels.py or train_cnn.py)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=None, help="index only the first N training images")
    parser.add_argument("--cache-dir", default=str(fmnist.REPO_ROOT / "build" / "web-cache"),
                        help="where E2LSH indexes are saved and loaded ('' to disable)")
    parser.add_argument("--backend", default=adapter.DEFAULT_BACKEND,
                        help="module with pstable's Python API (default: pstable)")
    parser.add_argument("--tables", type=int, default=10, help="E2LSH tables L")
    parser.add_argument("--hashes", type=int, default=8, help="E2LSH hashes per table k")
    parser.add_argument("--width", type=float, default=None, help="E2LSH bucket width w (default: from data)")
    parser.add_argument("--probes", type=int, default=0, help="E2LSH multi-probe buckets per table")
    args = parser.parse_args(argv)
    settings = adapter.E2LSHSettings(args.tables, args.hashes, args.width, num_probes=args.probes)
    start = time.perf_counter()
    engine = SearchEngine(args.features, args.backend, args.limit, args.cache_dir or None, settings)
    print(f"ready in {time.perf_counter() - start:.1f} s: http://{args.host}:{args.port}/", flush=True)
    create_app(engine).run(host=args.host, port=args.port, debug=False, threaded=True)


if __name__ == "__main__":
    sys.exit(main())
