"""Cross-validation shared by the chapter's tasks (binary, multiclass, multilabel, search).

Folds are the ones scikit-learn uses for ``cv=<int>`` with a classifier, as the classification notebook does:
consecutive stratified folds (plain K-fold for a multilabel target), no shuffling — MNIST's training images come
shuffled already. Each fit is one joblib call, so ``n_jobs`` runs folds side by side and a joblib backend (a
Dask cluster) can take them; the progress report counts fits as they finish.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import ParameterError
from .common import Progress, TRAIN_SCORE_LIMIT, fit_timed, no_progress, timed


def check_cv(cv: int) -> int:
    """A number of folds: a whole number of at least 2."""
    if not isinstance(cv, (int, np.integer)) or isinstance(cv, bool) or cv < 2:
        raise ParameterError("cv", f"must be a whole number of folds of at least 2, got {cv}.")
    return int(cv)


def check_digit(digit: int, parameter: str = "digit") -> int:
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit <= 9:
        raise ParameterError(parameter, f"must be a digit from 0 to 9, got {digit}.")
    return int(digit)


def parse_pair(text: str | Sequence[int]) -> tuple[int, int]:
    """'3,5' or (3, 5) -> (3, 5): two different digits 0..9."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
            raise ParameterError("pair", f"{text!r} must be two digits separated by a comma, like 3,5.")
        pair = [int(p) for p in parts]
    else:
        pair = list(text)
        if len(pair) != 2:
            raise ParameterError("pair", f"{text!r} must name exactly two digits.")
    a, b = (check_digit(d, "pair") for d in pair)
    if a == b:
        raise ParameterError("pair", f"names class {a} twice; give two different digits, like 3,5.")
    return a, b


def cv_splitter(cv: int, y=None):
    """The folds scikit-learn's ``cv=<int>`` gives a classifier: stratified, in order (K-fold for multilabel)."""
    from sklearn.model_selection import check_cv as sk_check_cv

    return sk_check_cv(check_cv(cv), y, classifier=True)


def score_method(estimator) -> str | None:
    """How to get ranking scores from a classifier: decision_function, else predict_proba, else None."""
    for method in ("decision_function", "predict_proba"):
        if hasattr(estimator, method):
            return method
    return None


def run_fits(jobs: Iterable, n_jobs: int | None, progress: Progress = no_progress,
             describe: Callable[[int], str] | None = None) -> list:
    """Run joblib-delayed fits, ``n_jobs`` at a time (in the active joblib backend), in finishing order."""
    from joblib import Parallel

    done = []
    for n, outcome in enumerate(Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs), 1):
        done.append(outcome)
        progress(1, description=describe(n) if describe else None)
    return done


def _fold(estimator, X, y, train, held, k: int, method: str | None) -> dict[str, Any]:
    """Fit a clone on one training fold; predict (and score) its held-out fold."""
    from sklearn.base import clone

    model = clone(estimator)
    fit_seconds = fit_timed(model, X[train], y[train])
    pred, predict_seconds = timed(lambda: model.predict(X[held]))
    out = {"k": k, "held": held, "pred": pred, "fit": fit_seconds, "predict": predict_seconds}
    if method is not None:
        values = getattr(model, method)(X[held])
        out["scores"] = np.ravel(values[:, 1] if method == "predict_proba" else values)
    return out


def out_of_fold(estimator, X, y, splitter, *, scores: bool = False, n_jobs: int | None = 1,
                progress: Progress = no_progress, label: str = "") -> dict[str, Any]:
    """Fit a clone on each training fold and predict its held-out fold.

    Returns ``predictions`` (as ``cross_val_predict``), ``fold_accuracy`` (as ``cross_val_score``), with
    ``scores=True`` also ``scores``: positive-class decision values or probabilities (as
    ``cross_val_predict(method=...)``), and the mean seconds per fold to fit and to predict.
    """
    from joblib import delayed

    X, y = np.asarray(X), np.asarray(y)
    method = score_method(estimator) if scores else None
    folds = list(splitter.split(X, y))
    jobs = (delayed(_fold)(estimator, X, y, train, held, k, method) for k, (train, held) in enumerate(folds))
    done = sorted(run_fits(jobs, n_jobs, progress, lambda n: f"{label} fold {n}/{len(folds)} done".strip()),
                  key=lambda fold: fold["k"])
    predictions = np.empty_like(y)
    oof_scores = np.empty(len(y), dtype=np.float64)
    for fold in done:
        predictions[fold["held"]] = fold["pred"]
        if method is not None:
            oof_scores[fold["held"]] = fold["scores"]
    fold_accuracy = [float(np.mean(np.all(np.reshape(f["pred"] == y[f["held"]], (len(f["held"]), -1)), axis=1)))
                     for f in done]
    out = {"predictions": predictions, "fold_accuracy": fold_accuracy, "cv_accuracy": float(np.mean(fold_accuracy)),
           "fit_seconds": float(np.mean([f["fit"] for f in done])),
           "predict_seconds": float(np.mean([f["predict"] for f in done]))}
    if scores:
        out |= {"scores": oof_scores, "score_method": method}
    return out


def fit_and_test(estimator, X_train, y_train, X_test, y_test, progress: Progress = no_progress,
                 label: str = "") -> dict[str, Any]:
    """Refit on the whole train split; score the test split and (at most 10,000) training images."""
    from ..evaluation import metrics

    progress(0, description=f"{label} fitting on all {len(X_train):,} training images".strip())
    fit_seconds = fit_timed(estimator, X_train, y_train)
    progress(0, description=f"{label} predicting {len(X_test):,} test images".strip())
    test_pred, predict_seconds = timed(lambda: estimator.predict(X_test))
    n_score = min(len(X_train), TRAIN_SCORE_LIMIT)
    train_pred = estimator.predict(X_train[:n_score])
    progress(1)
    return {
        "train_accuracy": metrics.accuracy(np.asarray(y_train)[:n_score], train_pred),
        "train_accuracy_on": int(n_score),
        "test_accuracy": metrics.accuracy(y_test, test_pred),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "test_predictions": test_pred,
    }
