"""Two tags per digit, ``>= 7`` and ``odd``, predicted together by one model (the classification notebook):
k-NN takes several labels natively; other models get one copy per label.

    >>> import digitlab
    >>> result = digitlab.multilabel("mnist-mini", model="knn")   # doctest: +SKIP
    >>> result.metrics["f1_macro"], result.plot_confusion()       # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from ..evaluation import metrics
from .common import (TRAIN_SCORE_LIMIT, Progress, build, check_task, first, fit_timed, model_name, no_progress,
                     resolved_params, timed)
from .cv import check_cv, cv_splitter, out_of_fold
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult

LABELS = ("large (>= 7)", "odd")


def digit_tags(y) -> np.ndarray:
    """The notebook's two tags of each digit: (digit >= 7, digit is odd), as an (n, 2) bool array."""
    y = np.asarray(y)
    return np.c_[y >= 7, y % 2 == 1]


@dataclass(repr=False, eq=False)
class MultilabelResult(TaskResult):
    """Cross-validated and test F1 of the two tags; the tags and out-of-fold predictions are kept for the plot."""

    Y_true: np.ndarray = field(default=None)
    cv_predictions: np.ndarray = field(default=None)

    kind = "multilabel"
    headline_keys = ("f1_macro", "f1_weighted", "test_f1_macro")

    def plot_confusion(self, ax=None):
        """One 2x2 confusion matrix per tag (``ax`` None or one Axes per tag)."""
        from ..evaluation import plots

        return plots.multilabel_confusion(self.Y_true, self.cv_predictions, list(LABELS), ax=ax,
                                          title=f"{self.metrics['model']}: each label's confusion matrix "
                                                f"({self.metrics['cv']}-fold CV predictions, F1 macro "
                                                f"{self.metrics['f1_macro']:.4f})")

    def run_plots(self):
        return {"multilabel_confusion.png": self.plot_confusion}


def _multilabel_capable(estimator):
    """The estimator itself when it takes a 2-D label array, else one clone per label."""
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.utils import get_tags

    try:
        native = get_tags(estimator).target_tags.multi_output
    except Exception:  # an estimator without scikit-learn's tags
        native = False
    return estimator if native else MultiOutputClassifier(estimator)


def _test_figures(final, X, Y, X_test, Y_test) -> dict[str, Any]:
    """Refit on the whole train split; F1 and exact-match ratio on the test split and on training images."""
    fit_seconds = fit_timed(final, X, Y)
    test_pred, predict_seconds = timed(lambda: final.predict(X_test))
    n_score = min(len(Y), TRAIN_SCORE_LIMIT)
    test_scores = metrics.multilabel_scores(Y_test, test_pred, LABELS)
    train_scores = metrics.multilabel_scores(Y[:n_score], final.predict(X[:n_score]), LABELS)
    return {"test_f1_macro": test_scores["f1_macro"], "test_f1_weighted": test_scores["f1_weighted"],
            "test_exact_match": test_scores["exact_match"], "train_exact_match": train_scores["exact_match"],
            "train_exact_match_on": int(n_score), "fit_seconds": fit_seconds, "predict_seconds": predict_seconds}


def multilabel(data: DataLike = None, *, model: Any = "knn", params: dict[str, Any] | None = None, cv: int = 3,
               n_train: int | None = None, seed: int = 42, n_jobs: int | None = 1, runs: str | Path | None = None,
               data_dir=None, progress: Progress = no_progress) -> MultilabelResult:
    """Cross-validated F1 (macro and weighted) of the two tags on the train split, then the test scores of
    the model refit on all of it (``result.model``)."""
    cv = check_cv(cv)
    if isinstance(model, str):
        check_task(model, "classify")
    estimator = _multilabel_capable(build(model, params, seed))
    dataset = dataset_for(data, data_dir=data_dir, seed=seed)
    X, y = first(dataset.X_train, dataset.y_train, n_train, "n_train", minimum=2)
    Y, Y_test = digit_tags(y), digit_tags(dataset.y_test)
    name, used = model_name(model), resolved_params(model, params, seed)
    config = {"dataset": dataset.name, "data_source": dataset.source, "n_train": n_train, "seed": seed,
              "model": name, "cv": cv, "labels": list(LABELS), "params": used}
    with Recorder(runs, "multilabel", f"{name}-{dataset.name}", config) as recorder:
        progress(0, total=cv + 1)
        oof = out_of_fold(estimator, X, Y, cv_splitter(cv, Y), n_jobs=n_jobs, progress=progress, label=name)
        cv_scores = metrics.multilabel_scores(Y, oof["predictions"], LABELS)
        progress(0, description=f"fitting on all {len(y):,} training images")
        final = clone(estimator)
        tested = _test_figures(final, X, Y, dataset.X_test, Y_test)
        progress(1)
        figures = {"kind": "multilabel", "dataset": dataset.name, "model": name, "params": used,
                   "labels": list(LABELS), "cv": cv, "seed": seed, "n_train": int(len(y)),
                   "n_test": int(len(Y_test)), "f1_macro": cv_scores["f1_macro"],
                   "f1_weighted": cv_scores["f1_weighted"],
                   # Exact-match ratios (both tags right), apart from digit accuracy so the leaderboard keeps them apart.
                   "cv_exact_match": cv_scores["exact_match"], "fold_accuracy": oof["fold_accuracy"],
                   "per_label": cv_scores["labels"], **tested, "cv_fit_seconds": oof["fit_seconds"]}
        return recorder.finish(MultilabelResult(figures, final, Y_true=Y, cv_predictions=oof["predictions"]))
