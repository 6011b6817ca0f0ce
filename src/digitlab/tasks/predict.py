"""Predict digits with a trained classifier: a Kaggle ``test.csv`` (giving ``submission.csv``), your own PNG or
JPEG digits (a file, or a folder and its sub-folders), or arrays — with the probability of each label and the
runner-up, and the 28x28 image the model saw.

    >>> import digitlab
    >>> result = digitlab.predict("model.safetensors", "my_digits/")   # doctest: +SKIP
    >>> result.rows()[0], result.plot_images()                           # doctest: +SKIP
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..data import images, kaggle
from ..errors import DataError, UsageError
from ..fileio import refuse_overwriting
from ..models import persist
from .result import TaskResult, plot

IMAGE_COLUMNS = ("image", "label", "probability", "runner_up", "runner_up_probability")
PREVIEW = 20  # predictions listed by name in the metrics when there are at most this many images


@dataclass(repr=False, eq=False)
class PredictResult(TaskResult):
    """Labels (and probabilities) for every input image; ``X`` holds the 28x28 rows the model saw."""

    X: np.ndarray = field(default=None)
    labels: np.ndarray = field(default=None)
    probabilities: np.ndarray | None = None  # (n, n_classes) in the order of ``classes``
    classes: np.ndarray | None = None
    names: list[str] | None = None  # image names; None for a Kaggle CSV or arrays

    kind = "predict"
    headline_keys = ("n",)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per image: name, label, its probability, the runner-up label and its probability."""
        out = []
        for i, label in enumerate(self.labels.tolist()):
            row: dict[str, Any] = {"image": self.names[i] if self.names else i + 1, "label": label}
            if self.probabilities is not None:
                order = np.argsort(-self.probabilities[i], kind="stable")
                row |= {"probability": float(self.probabilities[i, order[0]]),
                        "runner_up": self.classes[order[1]].item() if len(order) > 1 else None,
                        "runner_up_probability": float(self.probabilities[i, order[1]]) if len(order) > 1 else None}
            out.append(row)
        return out

    def write_csv(self, target: str | os.PathLike | TextIO) -> None:
        """``ImageId,Label`` (Kaggle's submission) for a CSV input, else one row per image with its figures;
        to a path (written atomically) or an open text stream."""
        if self.names is None:
            header, rows = ("ImageId", "Label"), [(i + 1, label) for i, label in enumerate(self.labels.tolist())]
        else:
            header = IMAGE_COLUMNS
            rows = [tuple(_csv_value(row.get(col)) for col in IMAGE_COLUMNS) for row in self.rows()]
        if isinstance(target, (str, os.PathLike)):
            kaggle.write_predictions(target, rows, header)
        else:
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    @plot
    def plot_images(self, n: int = 50, ax=None):
        """The 28x28 images the model saw, each titled with its prediction (and probability)."""
        from ..evaluation import plots

        titles = [f"{row['label']}" + (f" {row['probability']:.0%}" if "probability" in row else "")
                  for row in self.rows()[:n]]
        return plots.digit_gallery(self.X[:n], labels=titles, ax=ax, title="What the model saw, and its predictions")


def _csv_value(value):
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else value)


def _read_inputs(inputs) -> tuple[np.ndarray, list[str] | None, dict[str, str], dict[str, tuple]]:
    """(rows, names or None, errors by name, warnings by name) for a CSV, an image, a folder or arrays."""
    if isinstance(inputs, np.ndarray) or isinstance(inputs, (list, tuple)) and inputs and \
            isinstance(inputs[0], np.ndarray):
        X = np.asarray(inputs)
        return X.reshape(len(X), -1), None, {}, {}
    path = Path(inputs)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder.")
    if path.is_file() and path.suffix.lower() == ".csv":
        return kaggle.read_test_csv(path), None, {}, {}
    loaded = images.load_images(path)
    return loaded.X, loaded.names, dict(loaded.errors), dict(loaded.warnings)


def predict(model: Any, inputs, *, output: str | os.PathLike | None = None,
            save_preprocessed: str | os.PathLike | None = None) -> PredictResult:
    """Predict labels for ``inputs`` (a Kaggle test.csv, an image, a folder of images, or (n, 784) rows) with
    ``model`` (a classifier file written by digitlab, a fitted classifier, or None for the CNN shipped with
    digitlab). With ``output`` the CSV is written there; with ``save_preprocessed`` each image as the model saw
    it goes there as a PNG."""
    if model is None:
        from ..models import pretrained

        model = pretrained.path()
    if isinstance(model, (str, os.PathLike)):
        saved = persist.load(model)
        estimator, meta, source = saved.estimator, saved.meta, str(model)
    else:
        estimator, meta, source = model, {}, None
    if meta.get("task") == "denoise":
        raise UsageError(f"{source} is a denoiser; predicting labels needs a classifier.")
    if output is not None:
        refuse_overwriting(output, inputs if isinstance(inputs, (str, os.PathLike)) else None, source)
    X, names, errors, warned = _read_inputs(inputs)
    labels = estimator.predict(X) if len(X) else np.empty(0, dtype=np.int64)
    proba = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") and len(X) else None
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10) if len(X) else np.zeros(10, int)
    figures = {"model_file": source, "input": str(inputs) if not isinstance(inputs, (np.ndarray, list)) else "arrays",
               "output": str(output) if output is not None else None, "n": int(len(labels)),
               "label_counts": {str(d): int(c) for d, c in enumerate(counts)}, "errors": errors}
    result = PredictResult(figures, estimator, X=X, labels=np.asarray(labels), probabilities=proba,
                           classes=getattr(estimator, "classes_", None), names=names)
    result.warnings += [f"{name} {w}." for name, found in warned.items() for w in found]
    if names is not None and len(names) <= PREVIEW:
        figures["predictions"] = {row["image"]: row["label"] for row in result.rows()}
    if output is not None:
        result.write_csv(output)
    if save_preprocessed is not None:
        figures["preprocessed"] = _save_preprocessed(X, names, Path(save_preprocessed))
    return result


def _save_preprocessed(X: np.ndarray, names: list[str] | None, folder: Path) -> str:
    """Each 28x28 row as ``<name>.28x28.png`` in ``folder`` (digitlab's own names, so nothing else is replaced)."""
    from PIL import Image

    from ..fileio import atomic_path
    from ..shapes import IMAGE_SHAPE

    for i, row in enumerate(X):
        stem = Path(names[i]).with_suffix("") if names else Path(f"{i + 1:05d}")
        with atomic_path(folder / f"{stem}.28x28.png") as tmp:
            Image.fromarray(np.asarray(row, dtype=np.uint8).reshape(IMAGE_SHAPE)).save(tmp, format="PNG")
    return str(folder)
