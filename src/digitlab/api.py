"""The small functions of the public API that are not tasks: datasets, models, images and noise."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def list_datasets(data_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Every dataset digitlab knows: where it was found (or would be downloaded to) and whether its files
    match the published checksums."""
    from .data.datasets import locate_all

    return [location.as_dict() for location in locate_all(data_dir)]


def list_models(task: str | None = None) -> list[dict[str, Any]]:
    """Every model by name, with its task ("classify" or "denoise"), a one-line summary and its defaults."""
    from .errors import ParameterError
    from .models import registry

    if task not in (None, "classify", "denoise"):
        raise ParameterError("task", f"{task!r} is not one of: classify, denoise.")
    return [{"name": name, "task": registry.get(name).task, "summary": registry.get(name).summary,
             "defaults": registry.parameters(name)} for name in registry.names(task)]


def make_model(name: str, **params: Any):
    """A fresh, unfitted scikit-learn estimator for the registry model ``name`` with ``params`` set."""
    from .models import registry

    return registry.make(name, params)


def save_model(model, path: str | os.PathLike, meta: dict[str, Any] | None = None):
    """Write a fitted model to ``path`` in a format that runs no code when loaded (skops, or safetensors for
    digitlab's nets; the suffix is chosen when ``path`` has none); returns the path written."""
    from .models import persist

    return persist.save(model, path, meta)


def load_model(path: str | os.PathLike):
    """The fitted model in a file written by digitlab; pickles, foreign and damaged files are refused."""
    from .models import persist

    return persist.load(path).estimator


def pretrained():
    """The path of the CNN shipped inside digitlab (trained on full MNIST; its test accuracy is in the file's
    header): ``digitlab.load_model(digitlab.pretrained())``."""
    from .models import pretrained as shipped

    return shipped.path()


def to_mnist(image) -> np.ndarray:
    """An image (file, array or Pillow image) as an MNIST-like (784,) uint8 row: grey, light on dark, fitted
    into 20x20 and centred by its centre of mass in 28x28."""
    from .data.images import to_mnist as convert

    return convert(image)


def add_noise(X, spec: str, seed: int | None = None) -> np.ndarray:
    """A noisy copy of 0..255 images: ``uniform:HIGH`` (unclipped, as the notebooks), ``gaussian:SIGMA`` or
    ``saltpepper:P``."""
    from .data.noise import parse_noise

    return parse_noise(spec).apply(X, seed)


def read_kaggle_csv(path: str | os.PathLike):
    """A Kaggle Digit Recognizer CSV: ``(X, y)`` for a ``train.csv`` (with its ``label`` column), ``X`` for a
    ``test.csv``; every value checked, a bad one named by line and column."""
    from .data import kaggle
    from .fileio import reading

    with reading(path, "a CSV file"), open(path, encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline(100)
    labelled = header.split(",")[0].strip().strip('"') == "label"
    return kaggle.read_train_csv(path) if labelled else kaggle.read_test_csv(path)


def write_kaggle_csv(path: str | os.PathLike, X, y=None) -> None:
    """Write images (and labels) in the Kaggle Digit Recognizer format: ``train.csv`` with a ``label`` column
    when ``y`` is given, ``test.csv`` without; atomically."""
    from .data import kaggle

    if y is None:
        kaggle.write_test_csv(path, X)
    else:
        kaggle.write_train_csv(path, X, y)
