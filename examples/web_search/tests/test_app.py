"""Flask test-client tests: every route, every kind of bad request, results against a numpy oracle."""
import io

import numpy as np
import pytest
from PIL import Image

import images
import pstable_adapter as adapter
from conftest import exact_oracle

MODES = ["exact", "e2lsh"]
METRICS = ["euclidean", "cosine"]


def png_of(array):
    return images.png_bytes(np.asarray(array, np.uint8))


def upload(data, name="q.png"):
    return {"image": (io.BytesIO(data), name)}


# ---------------------------------------------------------------- pages
def test_home_shows_gallery_switches_and_bootstrap(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('name="query"') == 48
    assert 'id="mode-exact"' in html  # the E2LSH switch: test_the_app_offers_what_the_module_has
    assert 'id="metric-euclidean"' in html and 'id="metric-cosine"' in html
    assert "/vendor/bootstrap/css/bootstrap.min.css" in html
    assert 'type="file"' in html


def test_home_pages_and_keeps_options(client):
    html = client.get("/?page=2&mode=exact&metric=cosine&k=5").get_data(as_text=True)
    assert 'id="query-96"' in html and 'id="query-95"' not in html
    assert 'value="exact" checked' in html and 'value="cosine" checked' in html
    assert 'value="5"' in html


@pytest.mark.parametrize("page,status", [("abc", 400), ("9999", 404)])
def test_home_bad_page(client, page, status):
    response = client.get(f"/?page={page}")
    assert response.status_code == status
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("metric", METRICS)
def test_results_page(client, engine, mode, metric):
    response = client.get(f"/search?query=7&mode={mode}&metric={metric}&k=10")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    api = client.get(f"/api/search?query=7&mode={mode}&metric={metric}&k=10").get_json()
    assert html.count('class="card h-100 border-2 result') == api["returned"]
    for item in api["results"]:
        assert f'/img/base/{item["id"]}.png' in html
    assert "items visited" in html and " ms<" in html
    assert f'{api["relevant"]} / 10' in html


def test_bootstrap_is_served_locally(client):
    response = client.get("/vendor/bootstrap/css/bootstrap.min.css")
    assert response.status_code == 200 and b"Bootstrap" in response.data[:300]
    assert client.get("/vendor/bootstrap/css/nothing.css").status_code == 404


# ---------------------------------------------------------------- JSON API
@pytest.mark.parametrize("metric", METRICS)
def test_api_exact_matches_numpy_oracle(client, engine, metric):
    for qid in (0, 1, 123):
        body = client.get(f"/api/search?query={qid}&mode=exact&metric={metric}&k=10").get_json()
        ids, scores = exact_oracle(engine.base, engine.query[qid], metric, 10)
        assert [r["id"] for r in body["results"]] == ids.tolist()
        np.testing.assert_allclose([r["score"] for r in body["results"]], scores, rtol=1e-4, atol=1e-4)
        assert body["visited"] == len(engine.base)
        label = int(engine.query_labels[qid])
        relevant = int((engine.base_labels[ids] == label).sum())
        assert body["relevant"] == relevant and body["precision"] == pytest.approx(relevant / 10)
        assert all(r["relevant"] == (r["label"] == label) for r in body["results"])
        assert body["query"] == {"source": "test set", "id": qid, "label": label,
                                 "class": body["query"]["class"]}


@pytest.mark.parametrize("metric", METRICS)
def test_api_e2lsh_returns_true_distances_of_fewer_items(client, engine, metric):
    body = client.get(f"/api/search?query=3&mode=e2lsh&metric={metric}&k=10").get_json()
    assert 0 < body["visited"] < len(engine.base)
    assert 1 <= body["returned"] <= 10
    q = engine.query[3].astype(np.float64)
    for r in body["results"]:
        x = engine.base[r["id"]].astype(np.float64)
        want = (np.linalg.norm(x - q) if metric == "euclidean"
                else x @ q / (np.linalg.norm(x) * np.linalg.norm(q)))
        assert r["score"] == pytest.approx(want, rel=1e-4, abs=1e-4)
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=(metric == "cosine"))


def test_api_post_json_and_form_equal_get(client):
    get = client.get("/api/search?query=5&mode=exact&metric=cosine&k=4").get_json()
    post_json = client.post("/api/search", json={"query": 5, "mode": "exact", "metric": "cosine", "k": 4}).get_json()
    post_form = client.post("/api/search", data={"query": "5", "mode": "exact", "metric": "cosine", "k": "4"}).get_json()
    for body in (post_json, post_form):
        assert body["results"] == get["results"]


def test_api_defaults(client):
    body = client.get("/api/search?query=2").get_json()
    assert (body["mode"], body["metric"], body["k"]) == ("e2lsh", "euclidean", 10)


def test_upload_of_a_test_image_finds_what_its_id_finds(client, engine):
    by_id = client.get("/api/search?query=11&mode=exact&k=10").get_json()
    body = client.post("/api/search", data={"mode": "exact", "k": "10", **upload(png_of(engine.query_images[11]))},
                       content_type="multipart/form-data").get_json()
    assert body["query"]["source"] == "upload" and body["relevant"] is None
    assert [r["id"] for r in body["results"]] == [r["id"] for r in by_id["results"]]
    assert all(r["relevant"] is None for r in body["results"])


def test_upload_results_page_shows_the_upload(client, engine):
    response = client.post("/search", data={"mode": "e2lsh", "metric": "cosine", "k": "6",
                                            **upload(png_of(engine.query_images[4]))},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data:image/png;base64," in html and "uploaded image" in html


def test_upload_accepts_colour_images(client, engine):
    rgb = np.repeat(engine.query_images[9][:, :, None], 3, axis=2)
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "PNG")
    body = client.post("/api/search", data={"mode": "exact", **upload(out.getvalue())}).get_json()
    by_id = client.get("/api/search?query=9&mode=exact").get_json()
    assert [r["id"] for r in body["results"]] == [r["id"] for r in by_id["results"]]


def test_status(client, engine):
    body = client.get("/api/status").get_json()
    assert body["database_size"] == len(engine.base) and body["dims"] == 784
    assert body["queries"] == 10000 and len(body["indexes"]) == 2 * len(engine.kinds)


# ---------------------------------------------------------------- images
def test_png_routes(client, engine):
    for url, array in (("/img/query/42.png", engine.query_images[42]), ("/img/base/17.png", engine.base_images[17])):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/png"
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(response.data))), array)


def test_png_writer_without_pillow(monkeypatch, engine):
    monkeypatch.setattr(images, "Image", None)
    data = images.png_bytes(engine.query_images[3])
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), engine.query_images[3])


# ---------------------------------------------------------------- bad requests
BAD_SEARCHES = [
    ("query=99999", 404, "no test image 99999"),
    ("query=-1", 404, "no test image -1"),
    ("query=abc", 400, "query must be a test image number"),
    ("", 400, "say what to search for"),
    ("query=1&k=0", 400, "k must be from 1 to 100"),
    ("query=1&k=101", 400, "k must be from 1 to 100"),
    ("query=1&k=ten", 400, "k must be a whole number"),
    ("query=1&metric=manhattan", 400, 'unknown metric "manhattan"'),
    ("query=1&mode=hnsw", 400, 'unknown mode "hnsw"'),
    ("query=abc", 400, 'got "abc"'),
]


@pytest.mark.parametrize("args,status,message", BAD_SEARCHES)
def test_bad_search_json(client, args, status, message):
    response = client.get(f"/api/search?{args}")
    assert response.status_code == status
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("args,status,message", BAD_SEARCHES)
def test_bad_search_html(client, args, status, message):
    response = client.get(f"/search?{args}")
    html = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert message.replace("'", "&#39;").replace('"', "&#34;") in html and "Traceback" not in html


BAD_UPLOADS = [
    (b"", "the file is empty"),
    (b"not an image at all", "not a readable image"),
    (png_of(np.zeros((28, 28)))[:40], "not a readable image"),  # truncated PNG
]


@pytest.mark.parametrize("data,message", BAD_UPLOADS)
def test_bad_uploads(client, data, message):
    for url in ("/api/search", "/search"):
        response = client.post(url, data=upload(data), content_type="multipart/form-data")
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert message in text and "Traceback" not in text


def test_upload_too_large(client):
    response = client.post("/api/search", data=upload(b"\0" * (2 << 20)), content_type="multipart/form-data")
    assert response.status_code == 413 and "upload too large" in response.get_json()["error"]


def test_bad_json_body(client):
    response = client.post("/api/search", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400 and "JSON body must be an object" in response.get_json()["error"]
    response = client.post("/api/search", json={"query": 1, "k": 1000})
    assert response.status_code == 400


@pytest.mark.parametrize("url,status", [("/img/query/10000.png", 404), ("/img/base/3000.png", 404),
                                        ("/img/query/x.png", 400), ("/img/base/-2.png", 404)])
def test_bad_image_ids(client, url, status):
    assert client.get(url).status_code == status


def test_unknown_route_and_method(client):
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.mimetype == "text/html"
    response = client.put("/api/search")
    assert response.status_code == 405 and "error" in response.get_json()


def test_internal_error_is_a_clean_500_and_the_server_keeps_serving(client, engine, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")
    monkeypatch.setattr(engine, "search", broken)
    response = client.get("/api/search?query=1")
    assert response.status_code == 500 and "simulated" not in response.get_data(as_text=True)
    html = client.get("/search?query=1")
    assert html.status_code == 500 and "Traceback" not in html.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/api/search?query=1").status_code == 200


def test_errors_then_normal_service(client):
    for args, _, _ in BAD_SEARCHES:
        client.get(f"/api/search?{args}")
    assert client.get("/search?query=0").status_code == 200


# ---------------------------------------------------------------- adapter
def test_the_app_offers_both_kinds(client, engine):
    html = client.get("/").get_data(as_text=True)
    assert 'id="mode-exact"' in html and 'id="mode-e2lsh"' in html
    assert engine.kinds == ("exact", "e2lsh")
    assert len(client.get("/api/status").get_json()["indexes"]) == 4


def test_e2lsh_cache_round_trip(engine, tmp_path):
    module = adapter.get_backend(engine.backend_name)
    probe = adapter.build_index(module, "e2lsh", "euclidean", engine.base[:50])
    probe.index.save(str(tmp_path / "probe.pstable"))
    vectors = engine.base[:500]
    first = adapter.load_or_build(module, "e2lsh", "euclidean", vectors, cache_dir=tmp_path, tag="t")
    second = adapter.load_or_build(module, "e2lsh", "euclidean", vectors, cache_dir=tmp_path, tag="t")
    assert first.loaded_from is None and second.loaded_from is not None
    assert first.settings == second.settings
    a, b = first.search(engine.query[:5], 5), second.search(engine.query[:5], 5)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.ids, y.ids)
        assert x.visited == y.visited


def test_e2lsh_cache_serves_when_saving_fails(engine, tmp_path, monkeypatch, capsys):
    module = adapter.get_backend(engine.backend_name)

    def refuse(self, path):
        raise module.InvalidState("refused by the test")
    monkeypatch.setattr(module.E2LSHIndex, "save", refuse)
    vectors = engine.base[:500]
    first = adapter.load_or_build(module, "e2lsh", "cosine", vectors, cache_dir=tmp_path, tag="t")
    second = adapter.load_or_build(module, "e2lsh", "cosine", vectors, cache_dir=tmp_path, tag="t")
    assert first.loaded_from is None and second.loaded_from is None
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out.count("refused by the test") == 2
    a, b = first.search(engine.query[:5], 5), second.search(engine.query[:5], 5)
    for x, y in zip(a, b):  # same seed, same index
        np.testing.assert_array_equal(x.ids, y.ids)


def test_bucket_width_follows_the_data_scale(engine):
    w1 = adapter.E2LSHSettings().resolved(engine.base[:1000]).bucket_width
    w10 = adapter.E2LSHSettings().resolved(10 * engine.base[:1000]).bucket_width
    assert w10 == pytest.approx(10 * w1, rel=1e-3)
    assert adapter.E2LSHSettings(bucket_width=3.0).resolved(engine.base).bucket_width == 3.0


def test_unknown_kind_is_refused(engine):
    with pytest.raises(ValueError, match="unknown index"):
        adapter.build_index(adapter.get_backend(engine.backend_name), "hnsw", "euclidean", engine.base[:10])


def test_cnn_upload_uses_the_trained_model(tmp_path):
    """With CNN features an upload goes through the saved model; skipped until train_cnn.py ran."""
    import fmnist
    cnn = fmnist.FEATURES_ROOT / "cnn"
    pytest.importorskip("torch")
    if not (cnn / "model.pt").is_file():
        pytest.skip("no CNN feature set: run examples/features/train_cnn.py")
    from app import SearchEngine, create_app
    from conftest import backend_name
    engine = SearchEngine(cnn, backend_name(), limit=1000, log=lambda *a, **k: None)
    client = create_app(engine).test_client()
    by_id = client.get("/api/search?query=4&mode=exact&k=5").get_json()
    body = client.post("/api/search", data={"mode": "exact", "k": "5", **upload(png_of(engine.query_images[4]))},
                       content_type="multipart/form-data").get_json()
    assert [r["id"] for r in body["results"]] == [r["id"] for r in by_id["results"]]


# ---------------------------------------------------------------- issue 15: timing, uploads, messages, vectors
def test_search_time_is_the_median_of_several_runs(client, engine, monkeypatch):
    import app as web
    index = engine.indexes[("exact", "euclidean")]
    real = index.search
    samples = iter([0.9, 0.01, 0.03, 0.02, 0.05])  # one slow outlier, as a first call can be

    def timed(queries, k, num_threads=1):
        results = real(queries, k, num_threads)
        results[0].seconds = next(samples)
        return results
    monkeypatch.setattr(index, "search", timed)
    body = client.get("/api/search?query=3&mode=exact&metric=euclidean&k=5").get_json()
    assert web.TIMING_RUNS == 5 and body["timing_runs"] == 5
    assert body["seconds"] == pytest.approx(0.03)


def test_results_page_says_the_time_is_a_median(client):
    html = client.get("/search?query=3&mode=exact").get_data(as_text=True)
    assert "median of 5 runs" in html


def test_uploads_of_other_sizes_are_resized(client, engine):
    image = engine.query_images[11]
    big = np.kron(image, np.ones((2, 2), np.uint8))  # 56x56, each pixel doubled
    back = images.read_upload(png_of(big))
    assert back.shape == (28, 28) and back.dtype == np.uint8
    # Resampling blurs edges a little; the image stays the same one.
    assert np.abs(back.astype(int) - image.astype(int)).mean() < 8
    wide = images.read_upload(png_of(np.zeros((10, 40))))
    assert wide.shape == (28, 28) and not wide.any()
    body = client.post("/api/search", data={"mode": "exact", "k": "10", **upload(png_of(big))},
                       content_type="multipart/form-data").get_json()
    by_id = client.get("/api/search?query=11&mode=exact&k=10").get_json()
    assert body["query"]["source"] == "upload" and body["returned"] == 10
    assert body["results"][0]["id"] == by_id["results"][0]["id"]


@pytest.mark.parametrize("body,message", [
    ({"query": 1, "k": True}, 'k must be a whole number from 1 to 100, got "true"'),
    ({"query": 1, "k": 2.5}, 'got "2.5"'),
    ({"query": True}, 'query must be a test image number from 0 to'),
    ({"query": [1, 2]}, 'got "[1, 2]"'),
    ({"query": 1, "metric": None}, 'unknown metric "null"'),
])
def test_json_messages_show_values_not_python_reprs(client, body, message):
    response = client.post("/api/search", json=body)
    error = response.get_json()["error"]
    assert response.status_code == 400 and message in error, error
    assert "'True'" not in error and "None" not in error


@pytest.mark.parametrize("data", [b"not an image at all", png_of(np.zeros((28, 28)))[:40]])
def test_unreadable_uploads_name_no_python_object(client, data):
    error = client.post("/api/search", data=upload(data), content_type="multipart/form-data").get_json()["error"]
    assert "not a readable image" in error
    assert "<" not in error and " at 0x" not in error and "Error" not in error


@pytest.mark.parametrize("metric", METRICS)
def test_api_search_accepts_a_feature_vector(client, engine, metric):
    vector = engine.query[7]
    body = client.post("/api/search", json={"vector": vector.tolist(), "mode": "exact",
                                            "metric": metric, "k": 6}).get_json()
    assert body["query"]["source"] == "vector" and body["relevant"] is None
    ids, _ = exact_oracle(engine.base, vector, metric, 6)
    by_id = client.get(f"/api/search?query=7&mode=exact&metric={metric}&k=6").get_json()
    assert [r["id"] for r in body["results"]] == [r["id"] for r in by_id["results"]]
    assert set(r["id"] for r in body["results"]) == set(ids.tolist())


@pytest.mark.parametrize("vector,message", [
    ([0.5] * 3, "vector has 3 numbers; the stored features have 784"),
    ("abc", "vector must be a JSON list of 784 numbers"),
    ([0.5] * 783 + ["x"], "vector must be a JSON list of 784 numbers"),
    ([0.5] * 783 + [True], "vector must be a JSON list of 784 numbers"),
    ([0.5] * 783 + [1e300], "too large for float32"),
])
def test_bad_feature_vectors(client, vector, message):
    response = client.post("/api/search", json={"vector": vector, "mode": "exact"})
    assert response.status_code == 400 and message in response.get_json()["error"]
    nan = "[" + ", ".join(["0.5"] * 783 + ["NaN"]) + "]"
    response = client.post("/api/search", data='{"vector": ' + nan + "}", content_type="application/json")
    assert response.status_code == 400 and "not finite" in response.get_json()["error"]
