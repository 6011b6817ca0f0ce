"""The JSON API against a live uvicorn on a loopback port: test-set digits read right, as PNG and as pixels; each
bad request gets its status and one sentence, and the server keeps serving after it."""

from __future__ import annotations

import struct
import zlib

import httpx
import numpy as np
import pytest

from .conftest import png_bytes

N_DIGITS = 10


def one_sentence(response: httpx.Response) -> str:
    """The ``detail`` of an error answer, checked to be one sentence of JSON."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and "\n" not in detail and len(detail) < 200, detail
    assert "Traceback" not in detail
    return detail


def predict_png(url: str, data: bytes, name: str = "digit.png") -> httpx.Response:
    return httpx.post(f"{url}/api/predict", files={"file": (name, data, "image/png")}, timeout=10)


def test_test_set_digits_sent_as_png_are_read_right(live, mini):
    for i in range(N_DIGITS):
        response = predict_png(live, png_bytes(mini.X_test[i]))
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["label"] == mini.y_test[i]
        assert len(answer["probabilities"]) == 10 and abs(sum(answer["probabilities"]) - 1) < 1e-4
        assert [t["label"] for t in answer["top"]][0] == answer["label"] and len(answer["top"]) == 3
        assert len(answer["pixels"]) == 784 and 0 <= min(answer["pixels"]) and max(answer["pixels"]) <= 255
        assert answer["warnings"] == [] and answer["low_confidence"] is False and "cleaned" not in answer


def test_a_photo_of_ink_on_paper_and_the_raw_image_body_are_read_too(live, mini):
    photo = png_bytes(mini.X_test[0], size=600, dark_on_light=True)
    assert predict_png(live, photo).json()["label"] == mini.y_test[0]
    raw = httpx.post(f"{live}/api/predict", content=photo, headers={"content-type": "image/png"}, timeout=10)
    assert raw.json()["label"] == mini.y_test[0]


def test_pixels_as_json_are_read_with_or_without_preprocessing(live, mini):
    for i in range(3):
        pixels = mini.X_test[i].tolist()
        made = httpx.post(f"{live}/api/predict", json={"pixels": pixels}, timeout=10).json()
        as_is = httpx.post(f"{live}/api/predict", json={"pixels": pixels, "preprocess": False}, timeout=10).json()
        assert made["label"] == as_is["label"] == mini.y_test[i]
        assert as_is["pixels"] == pixels  # what the model saw is what was sent


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (one short row of data follows)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def _chunks(total: int, size: int = 256 * 1024):
    for _ in range(total // size):
        yield b"\x00" * size


BAD = {
    "not an image": (dict(files={"file": ("digit.png", b"this is not a picture", "image/png")}), 400, "not an image"),
    "empty canvas": (dict(files={"file": ("drawing.png", png_bytes(np.full((280, 280), 255, np.uint8)), "image/png")}),
                     400, "Draw a digit first"),
    "10 MB body": (dict(content=b"\x00" * (10 * 2 ** 20), headers={"content-type": "image/png"}), 413, "larger than"),
    "10 MB chunked": (dict(content=_chunks(10 * 2 ** 20), headers={"content-type": "image/png"}), 413, "larger than"),
    "20,000 x 20,000 PNG": (dict(files={"file": ("huge.png", _png_claiming(20_000, 20_000), "image/png")}), 400,
                            "megapixels"),
    "5,000 x 5,000 PNG": (dict(files={"file": ("big.png", _png_claiming(5_000, 5_000), "image/png")}), 400,
                          "5,000 x 5,000 pixels"),
    "malformed JSON": (dict(content=b'{"pixels": [0, 1,', headers={"content-type": "application/json"}), 400,
                       "not valid JSON"),
    "783 pixels": (dict(json={"pixels": [0] * 783}), 422, "784 values"),
    "pixels out of range": (dict(json={"pixels": [300] * 784}), 422, "from 0 to 255"),
    "pixels as text": (dict(json={"pixels": ["7"] * 784}), 422, "from 0 to 255"),
    "pixels with a null": (dict(json={"pixels": [0] * 783 + [None]}), 422, "from 0 to 255"),
    "pixels as rows": (dict(json={"pixels": [[0] * 28] * 28}), 422, "784 values"),
    "JSON without pixels": (dict(json=[1, 2, 3]), 422, '"pixels"'),
    "wrong content type": (dict(content=b"seven", headers={"content-type": "text/plain"}), 415, "not text/plain"),
    "form without a file": (dict(content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
                                 headers={"content-type": "multipart/form-data; boundary=b"}), 422, "no file"),
    "two files": (dict(files=[("file", ("a.png", b"1", "image/png")), ("file", ("b.png", b"2", "image/png"))]),
                  400, "files"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_request_gets_its_status_and_one_sentence_then_the_server_still_answers(live, mini, case):
    kwargs, status, fragment = BAD[case]
    try:
        response = httpx.post(f"{live}/api/predict", timeout=30, **kwargs)
    except httpx.TransportError as exc:  # pragma: no cover - the 413 must be readable, not a reset connection
        pytest.fail(f"{case}: the connection failed instead of an answer ({exc!r})")
    assert response.status_code == status, response.text
    assert fragment in one_sentence(response)
    good = predict_png(live, png_bytes(mini.X_test[0]))
    assert good.status_code == 200 and good.json()["label"] == mini.y_test[0]


def test_the_health_model_and_docs_endpoints(live):
    assert httpx.get(f"{live}/api/health").json() == {"status": "ok"}
    loaded = httpx.get(f"{live}/api/model").json()
    assert loaded["model"]["source"] == "pretrained" and loaded["model"]["model"] == "cnn"
    assert loaded["model"]["dataset"] == "mnist" and loaded["model"]["test_accuracy"] >= 0.99
    assert loaded["denoiser"] is None
    assert httpx.get(f"{live}/docs").status_code == 200
    paths = httpx.get(f"{live}/openapi.json").json()["paths"]
    assert {"/api/predict", "/api/model", "/api/health"} <= set(paths)
    assert "multipart/form-data" in paths["/api/predict"]["post"]["requestBody"]["content"]


def test_the_page_and_its_files_load_nothing_from_elsewhere(live):
    page = httpx.get(f"{live}/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        text = httpx.get(f"{live}{asset}").text
        assert "http://" not in text and "https://" not in text
    assert "https://" not in page.text and "http://" not in page.text


def test_only_loopback_host_names_are_answered(live):
    response = httpx.get(f"{live}/api/health", headers={"host": "attacker.example"})
    assert response.status_code == 400


def test_requests_arriving_together_are_answered_in_batches_each_with_its_own_answer(live, engine_app, mini):
    import asyncio

    batcher = engine_app.state.batcher
    before = (batcher.batches, batcher.answered)
    n = 32

    async def send_all():
        async with httpx.AsyncClient(base_url=live, timeout=30) as client:
            return await asyncio.gather(*(client.post("/api/predict", json={"pixels": mini.X_test[i].tolist()})
                                          for i in range(n)))

    answers = [r.json() for r in asyncio.run(send_all())]
    assert [a["label"] for a in answers] == [int(v) for v in mini.y_test[:n]]
    assert [a["pixels"] for a in answers[:3]] != [answers[0]["pixels"]] * 3  # each got its own image back
    batches, answered = batcher.batches - before[0], batcher.answered - before[1]
    assert answered == n and batches < n  # some arrived together and shared a model call
