"""What the web app computes, without the web: load the classifier (and denoiser) once, make an upload or a
drawing MNIST-like, predict, and say how sure the answer is.

The models come from the command line or the caller (a path or a fitted estimator), never from a request. Every
problem with a request's content is a ``RequestProblem``: an HTTP status and one sentence.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.images import PreparedImage, prepare_image
from ..errors import DataError, ModelError
from ..shapes import IMAGE_SHAPE, N_PIXELS, PIXEL_MAX

LOW_CONFIDENCE = 0.7  # a top probability under this is flagged: the drawing may not read as one digit
TOP = 3  # probabilities the page shows as bars
# Decoded images are bounded by their header, before decoding: 16 MP holds a 12 MP phone photo (4032 x 3024)
# and keeps a request's decoding near 100 MB; the library's own bound (data.images.MAX_PIXELS) is 40 MP.
MAX_IMAGE_PIXELS = 16_000_000
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # Pillow decoders a request may reach
BLANK = "Draw a digit first: the image is blank."
ROLES = {"classifier": "classify", "denoiser": "denoise"}  # a model's role here -> the task its file records
NOUNS = {task: role for role, task in ROLES.items()}


class RequestProblem(Exception):
    """A request the server cannot answer with a prediction: HTTP ``status`` and one sentence."""

    def __init__(self, status: int, sentence: str):
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


@dataclass
class Loaded:
    """A model the server holds, with the facts ``/api/model`` shows."""

    estimator: Any
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # file name, "pretrained", or None for an estimator handed over in Python

    def describe(self) -> dict[str, Any]:
        meta = self.meta
        return {"kind": type(self.estimator).__name__, "model": meta.get("model"), "task": meta.get("task"),
                "dataset": meta.get("dataset"), "n_train": meta.get("n_train"),
                "test_accuracy": meta.get("test_accuracy"), "noise": meta.get("noise"), "psnr": meta.get("psnr"),
                "source": self.source}


def _load(model, role: str) -> Loaded:
    """A model file (path; None: the shipped CNN) or a fitted estimator, checked for its role: "classifier" or
    "denoiser"."""
    from ..models import persist
    from ..models import pretrained as shipped

    if model is None or isinstance(model, (str, os.PathLike)):
        saved = persist.load(shipped.path() if model is None else model)
        loaded = Loaded(saved.estimator, saved.meta, shipped.NAME if model is None else Path(model).name)
        if "n_threads" in loaded.estimator.get_params():
            # One torch thread per forward pass: a batch of digits gains nothing from more, and batches run in turn.
            loaded.estimator.set_params(n_threads=1)
    else:
        loaded = Loaded(model)  # the caller's own estimator, used as it is
    task = loaded.meta.get("task")
    if task not in (None, ROLES[role]):
        raise ModelError(f"{loaded.source} is a {NOUNS.get(task, task)}, not a {role}.")
    if not hasattr(loaded.estimator, "predict"):
        raise ModelError(f"The {role} given ({type(loaded.estimator).__name__}) has no predict method.")
    return loaded


class Engine:
    """The loaded models: images made MNIST-like one by one, then read in batches (model calls run one at a
    time; ``answer_many`` is what ``batching.Batcher`` calls with the images that arrived together)."""

    def __init__(self, model=None, denoiser=None):
        self.model = _load(model, "classifier")
        self.denoiser = _load(denoiser, "denoiser") if denoiser is not None else None
        self.classes = getattr(self.model.estimator, "classes_", None)
        self._lock = threading.Lock()
        self.predict_pixels(_warm_up_digit(), preprocess=False)  # first calls are slow (torch, caches)

    def describe(self) -> dict[str, Any]:
        """What is loaded: ``/api/model``."""
        return {"model": self.model.describe(),
                "denoiser": self.denoiser.describe() if self.denoiser else None,
                "low_confidence_below": LOW_CONFIDENCE}

    def predict_image(self, image) -> dict[str, Any]:
        """An uploaded image (its file's bytes, or ``open_image``'s result), made MNIST-like and predicted."""
        return self.answer_many([self.prepare_image(image)])[0]

    def predict_pixels(self, pixels: np.ndarray, preprocess: bool = True) -> dict[str, Any]:
        """784 (or 28 x 28) values 0..255, made MNIST-like (see ``prepare_pixels``) and predicted."""
        return self.answer_many([self.prepare_pixels(pixels, preprocess)])[0]

    @staticmethod
    def prepare_image(image) -> PreparedImage:
        """An uploaded image (file bytes or ``open_image``'s result) made MNIST-like; RequestProblem if it cannot."""
        return _prepare(open_image(image) if isinstance(image, bytes) else image)

    @staticmethod
    def prepare_pixels(pixels: np.ndarray, preprocess: bool = True) -> PreparedImage:
        """784 (or 28 x 28) values 0..255, checked by the caller, made MNIST-like unless ``preprocess`` is False
        (pixels already MNIST-like, such as a row of the dataset)."""
        grey = np.rint(np.asarray(pixels, dtype=np.float64)).astype(np.uint8).reshape(IMAGE_SHAPE)
        if not grey.any():
            raise RequestProblem(400, BLANK)
        return _prepare(grey) if preprocess else PreparedImage(grey.reshape(N_PIXELS))

    def answer_many(self, prepared: list[PreparedImage]) -> list[dict[str, Any]]:
        """For each image: the label, probabilities, the pixels the model saw, warnings and the low-confidence
        flag (and the cleaned pixels). One model call for all: a batch of 16 costs about 3 single calls."""
        X = np.stack([p.pixels for p in prepared])
        estimator = self.model.estimator
        with self._lock:
            proba = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
            labels = self.classes[np.argmax(proba, axis=1)] if proba is not None else estimator.predict(X)
            cleaned = self.denoiser.estimator.predict(X) if self.denoiser else None
        return [self._answer(p, labels[i], proba[i] if proba is not None else None,
                             cleaned[i] if cleaned is not None else None) for i, p in enumerate(prepared)]

    def _answer(self, prepared: PreparedImage, label, proba, cleaned) -> dict[str, Any]:
        found = [f"The image {w}." for w in prepared.warnings]
        answer: dict[str, Any] = {"label": _plain(label), "classes": None, "probabilities": None, "top": [],
                                  "pixels": prepared.pixels.tolist(), "warnings": found}
        top_probability = None
        if proba is not None:
            order = np.argsort(-proba, kind="stable")[:TOP]
            top_probability = float(proba[order[0]])
            answer |= {"classes": [_plain(c) for c in self.classes], "probabilities": np.round(proba, 6).tolist(),
                       "top": [{"label": _plain(self.classes[i]), "probability": round(float(proba[i]), 6)}
                               for i in order]}
        answer["low_confidence"] = bool(found) or (top_probability is not None and top_probability < LOW_CONFIDENCE)
        if cleaned is not None:
            answer["cleaned"] = np.clip(np.rint(cleaned), 0, PIXEL_MAX).astype(np.uint8).tolist()
        return answer


def _plain(value):
    """A NumPy scalar (a class label) as the Python number or string JSON wants."""
    return value.item() if isinstance(value, np.generic) else value


def open_image(data: bytes):
    """Pillow's view of an uploaded file, refused from its header when too large; nothing is decoded yet."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise RequestProblem(400, "The upload is empty; send a PNG or JPEG image of a digit.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        image = None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise RequestProblem(400, f"The upload is not an image digitlab can read "
                                  f"({', '.join(FORMATS)}).") from None
    if image is None or image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
        size = f" ({image.size[0]:,} x {image.size[1]:,} pixels)" if image is not None else ""
        raise RequestProblem(400, f"The image{size} is larger than the {MAX_IMAGE_PIXELS / 1e6:g} megapixels the "
                                  f"server reads; scale it down first.")
    return image


def _prepare(image) -> PreparedImage:
    """prepare_image, its DataError as a RequestProblem: a blank image asks for a drawing."""
    try:
        return prepare_image(image)
    except DataError as exc:
        reason = str(exc).removeprefix("image: ")
        if "blank" in reason:
            raise RequestProblem(400, BLANK) from None
        raise RequestProblem(400, reason[:1].upper() + reason[1:]) from None


def _warm_up_digit() -> np.ndarray:
    """A vertical bar: a 1 of sorts, for the first (slow) pass through the models."""
    digit = np.zeros(IMAGE_SHAPE, np.uint8)
    digit[4:24, 13:16] = PIXEL_MAX
    return digit.reshape(N_PIXELS)
