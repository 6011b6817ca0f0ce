"""One digit against the rest (the classification notebook): cross-validated accuracy beside the
never-this-digit baseline, confusion matrix, precision, recall, F1, the threshold that reaches a target
precision and ROC AUC, for a model and a second one to compare it with.

    >>> import digitlab
    >>> result = digitlab.binary("mnist-mini", digit=5, model="sgd", compare="random-forest")   # doctest: +SKIP
    >>> result.plot_roc_curves()                                                                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, ParameterError, UsageError
from ..evaluation import metrics
from .common import Progress, build, check_task, first, model_name, no_progress, resolved_params
from .cv import check_cv, check_digit, cv_splitter, out_of_fold, score_method
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult


@dataclass(repr=False, eq=False)
class BinaryResult(TaskResult):
    """Figures of ``model`` (and under ``metrics["compare"]`` those of the second model); the out-of-fold scores
    are kept for the curves."""

    y_true: np.ndarray = field(default=None)
    scores: np.ndarray = field(default=None)
    compare_scores: np.ndarray | None = None

    kind = "binary"
    headline_keys = ("cv_accuracy", "baseline_cv_accuracy", "precision", "recall", "roc_auc")

    def _curves(self) -> list[dict]:
        runs = [(self.metrics, self.scores)]
        if self.compare_scores is not None:
            runs.append((self.metrics["compare"], self.compare_scores))
        return [{"name": figures["model"], "y_true": self.y_true, "scores": scores, "threshold": figures["threshold"],
                 "point": (figures["recall_at_threshold"], figures["precision_at_threshold"])}
                for figures, scores in runs]

    def _about(self) -> str:
        return f"{self.metrics['digit']} vs rest"

    def plot_precision_recall_vs_threshold(self, ax=None):
        from ..evaluation import plots

        label = ("decision function threshold" if self.metrics["score_method"] == "decision_function"
                 else "probability threshold")
        return plots.precision_recall_vs_threshold(
            self.y_true, self.scores, threshold=self.metrics["threshold"], target=self.metrics["target_precision"],
            score_label=label, ax=ax, title=f"{self.metrics['model']}, {self._about()}: precision and recall "
                                            f"against the threshold ({self.metrics['cv']}-fold CV)")

    def plot_precision_vs_recall(self, ax=None):
        from ..evaluation import plots

        return plots.precision_vs_recall(self._curves(), ax=ax, title=f"{self._about()}: precision against recall "
                                                                       f"({self.metrics['cv']}-fold CV)")

    def plot_roc_curves(self, ax=None):
        from ..evaluation import plots

        return plots.roc_curves(self._curves(), ax=ax, title=f"{self._about()}: ROC curves "
                                                             f"({self.metrics['cv']}-fold CV)")

    def plot_confusion_matrix(self, ax=None):
        from ..evaluation import plots

        digit = self.metrics["digit"]
        return plots.confusion(np.asarray(self.metrics["confusion_matrix"]), [f"not {digit}", str(digit)], ax=ax,
                               title=f"{self.metrics['model']}, {self._about()}: confusion matrix "
                                     f"({self.metrics['cv']}-fold CV predictions)")

    def run_plots(self):
        return {"precision_recall_vs_threshold.png": self.plot_precision_recall_vs_threshold,
                "precision_vs_recall.png": self.plot_precision_vs_recall, "roc_curves.png": self.plot_roc_curves,
                "confusion_matrix.png": self.plot_confusion_matrix}


def check_target_precision(value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise ParameterError("target_precision", f"must be between 0 and 1 (exclusive), got {value}.")
    return float(value)


def _require_scores(estimator, name: str) -> None:
    if score_method(estimator) is None:
        raise ModelError(f"Model {name!r} has neither decision_function nor predict_proba, "
                         f"so it gives no scores for precision-recall and ROC curves.")


def _figures(estimator, name, params, X, y, splitter, target, n_jobs, progress) -> dict[str, Any]:
    oof = out_of_fold(estimator, X, y, splitter, scores=True, n_jobs=n_jobs, progress=progress, label=name)
    result = {"model": name, "params": params, "cv_accuracy": oof["cv_accuracy"],
              "fold_accuracy": oof["fold_accuracy"], "score_method": oof["score_method"]}
    result |= metrics.binary_scores(y, oof["predictions"])
    result["roc_auc"] = metrics.roc_auc(y, oof["scores"])
    result |= metrics.threshold_for_precision(y, oof["scores"], target)
    return result | {"fit_seconds": oof["fit_seconds"], "predict_seconds": oof["predict_seconds"],
                     "scores": oof["scores"]}


def _contender(model, params, seed, parameter: str):
    """The estimator for ``model`` (a classifier that gives scores), its name and its parameters."""
    if isinstance(model, str):
        check_task(model, "classify", parameter)
    estimator = build(model, params, seed)
    _require_scores(estimator, model_name(model))
    return estimator, model_name(model), resolved_params(model, params, seed)


def binary(data: DataLike = None, *, digit: int = 5, model: Any = "sgd", compare: Any = "random-forest",
           cv: int = 3, target_precision: float = 0.9, params: dict[str, Any] | None = None,
           compare_params: dict[str, Any] | None = None, n_train: int | None = None, seed: int = 42,
           n_jobs: int | None = 1, runs: str | Path | None = None, data_dir=None,
           progress: Progress = no_progress) -> BinaryResult:
    """Cross-validate ``model`` and ``compare`` (None to skip) on ``digit`` against the rest of the training
    images; ``n_jobs`` fits at once. Figures of ``model`` are at the top of ``metrics``, those of ``compare``
    under ``metrics["compare"]``."""
    digit, target, cv = check_digit(digit), check_target_precision(target_precision), check_cv(cv)
    main = _contender(model, params, seed, "model")
    other = _contender(compare, compare_params, seed, "compare") if compare is not None else None
    dataset = dataset_for(data, data_dir=data_dir, seed=seed)
    X, y = first(dataset.X_train, dataset.y_train, n_train, "n_train", minimum=2)
    y_bin = np.asarray(y) == digit
    if not y_bin.any():
        raise UsageError(f"The training images hold no {digit}, so there is nothing to detect.")
    splitter = cv_splitter(cv, y_bin)
    config = {"dataset": dataset.name, "data_source": dataset.source, "n_train": n_train, "seed": seed,
              "digit": digit, "model": main[1], "compare": other[1] if other else None, "cv": cv,
              "target_precision": target, "params": main[2]}
    with Recorder(runs, "binary", f"{main[1]}-{digit}-{dataset.name}", config) as recorder:
        progress(0, total=cv * (3 if other else 2))
        figures = _figures(*main, X, y_bin, splitter, target, n_jobs, progress)
        baseline = out_of_fold(build("never"), X, y_bin, splitter, n_jobs=n_jobs, progress=progress, label="never")
        scores = figures.pop("scores")
        result = {"kind": "binary", "dataset": dataset.name, "digit": digit, "cv": cv, "seed": seed,
                  "n_train": int(len(y_bin)), "positives": int(y_bin.sum()), "target_precision": target, **figures,
                  "baseline_cv_accuracy": baseline["cv_accuracy"], "baseline_fold_accuracy": baseline["fold_accuracy"]}
        compare_scores = None
        if other is not None:
            result["compare"] = _figures(*other, X, y_bin, splitter, target, n_jobs, progress)
            compare_scores = result["compare"].pop("scores")
        return recorder.finish(BinaryResult(result, None, y_true=y_bin, scores=scores, compare_scores=compare_scores))
