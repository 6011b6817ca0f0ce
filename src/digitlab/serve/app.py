"""The FastAPI app: the drawing page, ``POST /api/predict``, ``GET /api/model``, ``GET /api/health`` and the
OpenAPI docs at ``/docs``.

    >>> from digitlab.serve import create_app                 # doctest: +SKIP
    >>> app = create_app()                                     # the shipped CNN; or create_app("cnn.safetensors")

Every bad request gets one sentence as ``{"detail": "..."}`` and the server keeps serving: 400 not an image, a
blank drawing, too many pixels, a body that is not JSON; 413 a body over ``limits.MAX_BODY``; 415 another content
type; 422 JSON of the wrong shape.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .._version import __version__
from ..shapes import N_PIXELS, PIXEL_MAX
from . import schema
from .batching import Batcher
from .engine import Engine, RequestProblem, open_image
from .limits import MAX_BODY, BodyLimit

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# Images up to this size are made MNIST-like on the event loop (the page's 64 x 64 drawing: 0.5 ms; 280 x 280:
# 3.5 ms); larger ones in a worker thread, so that the loop answers others meanwhile (1000 x 1000: 45 ms).
INLINE_PIXELS = 100_000
# The page loads nothing from elsewhere and is never framed.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                                           "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}

router = APIRouter()


def create_app(model=None, denoiser=None, *, hosts: tuple[str, ...] | None = LOOPBACK,
               max_body: int = MAX_BODY) -> FastAPI:
    """The web app around ``model`` (a classifier file or fitted estimator; the shipped CNN by default) and an
    optional ``denoiser``. ``hosts``: Host names the app answers (loopback names by default, which also stops DNS
    rebinding from a web page); None answers any. ``max_body``: the request body bound in bytes."""
    engine = Engine(model, denoiser)
    app = FastAPI(title="digitlab", version=__version__, redoc_url=None,
                  description="Draw a digit, get the prediction: the JSON API behind `digitlab serve`.")
    app.state.engine = engine
    app.state.batcher = Batcher(engine.answer_many)
    app.state.page = (STATIC / "index.html").read_text(encoding="utf-8")
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(RequestProblem, _problem)
    app.add_exception_handler(HTTPException, _http_problem)
    app.add_exception_handler(Exception, _failure)
    if hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))
    app.add_middleware(BodyLimit, limit=max_body)
    return app


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(request.app.state.page, headers=PAGE_HEADERS)


@router.get("/api/health", response_model=schema.Health, summary="Whether the server answers")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/api/model", response_model=schema.Loaded, summary="The models loaded and their recorded figures")
async def model(request: Request) -> dict:
    return request.app.state.engine.describe()


@router.post("/api/predict", summary="Read one digit", response_model=schema.Prediction,
             responses=schema.PROBLEMS, openapi_extra=schema.PREDICT_BODY)
async def predict(request: Request) -> JSONResponse:
    """An image of one digit (multipart upload as `file`, or the image as the body) or `{"pixels": [784 values
    0..255]}`: the label, ten probabilities, the 28 x 28 pixels the model saw, warnings and a low-confidence
    flag (and the cleaned pixels, with a denoiser)."""
    engine: Engine = request.app.state.engine
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == "application/json":
        pixels, preprocess = _pixels(await request.body())
        prepared = engine.prepare_pixels(pixels, preprocess)
    else:
        if kind == "multipart/form-data":
            image = open_image(await _uploaded(request))
        elif kind.startswith("image/") or kind == "application/octet-stream":
            image = open_image(await request.body())
        else:
            raise RequestProblem(415, f"Send an image (multipart/form-data with a file, or image/png) or JSON "
                                      f"pixels (application/json), not {kind or 'a body without a content type'}.")
        small = image.size[0] * image.size[1] <= INLINE_PIXELS
        prepared = engine.prepare_image(image) if small else await run_in_threadpool(engine.prepare_image, image)
    answer = await request.app.state.batcher.answer(prepared)
    return JSONResponse(answer)


async def _uploaded(request: Request) -> bytes:
    """The bytes of the one file in a multipart form."""
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = next((value for value in form.values() if isinstance(value, UploadFile)), None)
        if upload is None:
            raise RequestProblem(422, "The form holds no file: send the image as a file field named 'file'.")
        return await upload.read()
    finally:
        await form.close()


def _pixels(body: bytes) -> tuple[np.ndarray, bool]:
    """``{"pixels": [784 numbers 0..255], "preprocess": true}`` checked, as an array and the flag."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise RequestProblem(400, f"The request body is not valid JSON{where}.") from None
    if not isinstance(data, dict) or "pixels" not in data:
        raise RequestProblem(422, 'Expected a JSON object {"pixels": [784 values 0..255]}.')
    values, preprocess = data["pixels"], data.get("preprocess", True)
    if not isinstance(values, list) or len(values) != N_PIXELS:
        got = f"{len(values)} values" if isinstance(values, list) else f"a {type(values).__name__}"
        raise RequestProblem(422, f"pixels must be a list of {N_PIXELS} values (28 x 28, row by row), got {got}.")
    array = np.array(values)  # NumPy infers the type in C: numbers give "i" or "f", a string or null does not
    if array.dtype.kind not in "iuf" or array.shape != (N_PIXELS,) or not (
            np.isfinite(array).all() and array.min() >= 0 and array.max() <= PIXEL_MAX):
        raise RequestProblem(422, f"pixels must be numbers from 0 to {PIXEL_MAX}.")
    if not isinstance(preprocess, bool):
        raise RequestProblem(422, "preprocess must be true or false.")
    return array.astype(np.float64), preprocess


async def _problem(request: Request, exc: RequestProblem) -> JSONResponse:
    return JSONResponse({"detail": exc.sentence}, status_code=exc.status)


async def _http_problem(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own refusals (404, 405, a malformed form) in the same shape: one sentence."""
    detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
    return JSONResponse({"detail": detail.rstrip(".") + "."}, status_code=exc.status_code, headers=exc.headers)


async def _failure(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"The server failed on this request ({type(exc).__name__}); it keeps serving."},
                        status_code=500)
