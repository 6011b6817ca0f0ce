"""Score a saved (or fitted) model on a dataset's test split: per-class figures and the most confused digits
for a classifier; RMSE, PSNR and SSIM against the noisy input's for a denoiser.

    >>> import digitlab
    >>> report = digitlab.evaluate("runs/…/model.skops", "mnist")   # doctest: +SKIP
    >>> report.metrics["most_confused"], report.plot_confusion_matrix()   # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluation import metrics as m
from ..models import persist
from .common import first, timed
from .data import DataLike, dataset_for
from .denoise import DenoiseResult, as_pixels, noisy_pair
from .train import ClassifiedResult, _confidence


@dataclass(repr=False, eq=False)
class EvaluateResult(ClassifiedResult):
    """A saved classifier's figures on a test split; the test digits and predictions are kept for the plots."""

    kind = "evaluate"
    headline_keys = ("test_accuracy", "f1_macro")


def evaluate(model: Any, data: DataLike = None, *, n_test: int | None = None, noise: str | None = None,
             seed: int = 42, data_dir=None) -> EvaluateResult | DenoiseResult:
    """Score ``model`` — a model file written by digitlab, or a fitted estimator — on the test split of
    ``data`` (by default the dataset a model file was trained on). A denoiser cleans the test images with
    the noise it was trained on (or ``noise``) and returns a DenoiseResult."""
    if isinstance(model, (str, os.PathLike)):
        saved = persist.load(model)
        estimator, meta, source = saved.estimator, saved.meta, str(model)
    else:
        estimator, meta, source = model, {}, None
    own = data is None and str(meta.get("dataset", "")).startswith("csv:")  # the split the model was tested on
    dataset = dataset_for(data if data is not None else meta.get("dataset"), data_dir=data_dir, seed=meta.get(
        "seed", seed) if own else seed, holdout=meta.get("holdout") if own else None)
    X_test, y_test = first(dataset.X_test, dataset.y_test, n_test, "n_test")
    base = {"model_file": source, "model": meta.get("model", type(estimator).__name__), "dataset": dataset.name,
            "n_test": int(len(X_test))}
    if meta.get("task") == "denoise" or noise is not None:
        spec = noise or meta["noise"]
        _, noisy = noisy_pair(spec, X_test[:0], X_test, seed)
        cleaned, seconds = timed(lambda: as_pixels(estimator.predict(noisy)))
        figures = {**base, "noise": spec, **m.denoise_scores(X_test, noisy, cleaned), "predict_seconds": seconds}
        return DenoiseResult(figures, estimator, clean=X_test, noisy=noisy, cleaned=cleaned)
    predictions, seconds = timed(lambda: estimator.predict(X_test))
    labels = [int(v) for v in np.unique(np.concatenate([y_test, np.asarray(predictions, dtype=y_test.dtype)]))]
    figures = {**base, "test_accuracy": m.accuracy(y_test, predictions), "predict_seconds": seconds,
               **m.classification_report(y_test, predictions, labels)}
    return EvaluateResult(figures, estimator, X_test=X_test, y_test=y_test, predictions=predictions,
                          confidence=_confidence(estimator, X_test, predictions))
