"""All ten digits with error analysis (the classification notebook): cross-validated accuracy, confusion and
error matrices, per-class precision and recall, the test accuracy of the model refit on the whole train split,
and the four-grid gallery of any two classes.

    >>> import digitlab
    >>> result = digitlab.multiclass("mnist-mini", model="sgd-scaled")   # doctest: +SKIP
    >>> result.plot_error_matrix()                                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import clone

from ..evaluation import metrics
from .common import Progress, build, check_task, first, model_name, no_progress, resolved_params
from .cv import check_cv, cv_splitter, fit_and_test, out_of_fold, parse_pair
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult


@dataclass(repr=False, eq=False)
class MulticlassResult(TaskResult):
    """Cross-validated and test figures; the training images and their out-of-fold predictions are kept for
    the error gallery."""

    X: np.ndarray = field(default=None)
    y: np.ndarray = field(default=None)
    cv_predictions: np.ndarray = field(default=None)

    kind = "multiclass"
    headline_keys = ("cv_accuracy", "test_accuracy")

    def plot_confusion_matrix(self, ax=None):
        from ..evaluation import plots

        return plots.confusion(np.asarray(self.metrics["confusion_matrix"]), self.metrics["labels"], ax=ax,
                               title=f"{self.metrics['model']} on {self.metrics['dataset']}: confusion matrix "
                                     f"({self.metrics['cv']}-fold CV predictions)",
                               xlabel="Predicted digit", ylabel="Actual digit")

    def plot_error_matrix(self, ax=None):
        from ..evaluation import plots

        return plots.error_matrix(np.asarray(self.metrics["error_matrix"]), self.metrics["labels"], ax=ax,
                                  title=f"{self.metrics['model']}: errors per actual digit (row-normalised, "
                                        f"diagonal zeroed)", xlabel="Predicted digit", ylabel="Actual digit")

    def plot_error_gallery(self, pair: Sequence[int] | None = None, ax=None):
        from ..evaluation import plots

        a, b = parse_pair(pair) if pair is not None else self.metrics["pair"]
        return plots.error_gallery(self.X, self.y, self.cv_predictions, a, b, ax=ax,
                                   title=f"{self.metrics['model']}: {a}s and {b}s by actual (rows) and CV "
                                         f"prediction (columns)")

    def run_plots(self):
        a, b = self.metrics["pair"]
        return {"confusion_matrix.png": self.plot_confusion_matrix, "error_matrix.png": self.plot_error_matrix,
                f"errors_{a}_{b}.png": self.plot_error_gallery}


def multiclass(data: DataLike = None, *, model: Any = "sgd", params: dict[str, Any] | None = None, cv: int = 3,
               pair: str | Sequence[int] = (3, 5), n_train: int | None = None, seed: int = 42,
               n_jobs: int | None = 1, runs: str | Path | None = None, data_dir=None,
               progress: Progress = no_progress) -> MulticlassResult:
    """Cross-validate ``model`` on the train split (``n_jobs`` folds at once), refit it on all of it and
    score the test split; ``result.model`` is that refit model."""
    cv = check_cv(cv)
    a, b = parse_pair(pair)
    if isinstance(model, str):
        check_task(model, "classify")
    estimator = build(model, params, seed)
    dataset = dataset_for(data, data_dir=data_dir, seed=seed)
    X, y = first(dataset.X_train, dataset.y_train, n_train, "n_train", minimum=2)
    name, used = model_name(model), resolved_params(model, params, seed)
    config = {"dataset": dataset.name, "data_source": dataset.source, "n_train": n_train, "seed": seed,
              "model": name, "cv": cv, "pair": [a, b], "params": used}
    with Recorder(runs, "multiclass", f"{name}-{dataset.name}", config) as recorder:
        labels = [int(v) for v in np.unique(y)]
        progress(0, total=cv + 1)
        oof = out_of_fold(estimator, X, y, cv_splitter(cv, y), n_jobs=n_jobs, progress=progress, label=name)
        confusion = metrics.confusion_matrix(y, oof["predictions"], labels)
        final = clone(estimator)
        tested = fit_and_test(final, X, y, dataset.X_test, dataset.y_test, progress=progress, label=name)
        figures = {
            "kind": "multiclass", "dataset": dataset.name, "model": name, "params": used, "cv": cv, "seed": seed,
            "n_train": int(len(y)), "n_test": int(len(dataset.y_test)), "cv_accuracy": oof["cv_accuracy"],
            "fold_accuracy": oof["fold_accuracy"], "per_class": metrics.per_class_scores(y, oof["predictions"], labels),
            **{k: v for k, v in tested.items() if k != "test_predictions"}, "cv_fit_seconds": oof["fit_seconds"],
            "pair": [a, b], "labels": labels, "confusion_matrix": confusion.tolist(),
            "error_matrix": metrics.error_matrix(confusion).tolist()}
        result = MulticlassResult(figures, final, X=X, y=y, cv_predictions=oof["predictions"])
        return recorder.finish(result)
