"""Multiclass classification with error analysis (seed 002): cross-validated accuracy, confusion and error
matrices, per-class precision and recall, the test accuracy of the model refit on the whole train split,
and the four-grid gallery of any two classes.

Also home of the cross-validation loop the other chapter tasks share: folds are run one by one so a
progress display can follow them, and each fold yields the predictions and scores that
``cross_val_predict`` and ``cross_val_score`` give with the same ``cv``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from sklearn.base import clone

from ..errors import ModelError, UsageError
from ..evaluate import metrics
from ..models import registry
from ..runs import timed

Step = Callable[..., None]  # cli.common.Step: step(advance=1, description=None, total=None)

# Train accuracy is measured on at most this many training images (as `digitlab train` does), since
# predicting all 60,000 with a k-NN or an SVC costs more than the fit.
TRAIN_SCORE_LIMIT = 10_000


def _no_step(advance: float = 1, description: str | None = None, total: float | None = None) -> None:
    pass


def check_cv(cv: int) -> int:
    if not isinstance(cv, (int, np.integer)) or isinstance(cv, bool) or cv < 2:
        raise UsageError(f"--cv must be a whole number of folds of at least 2, got {cv}.")
    return int(cv)


def check_digit(digit: int, option: str = "--digit") -> int:
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit <= 9:
        raise UsageError(f"{option} must be a digit from 0 to 9, got {digit}.")
    return int(digit)


def parse_pair(text: str | Sequence[int]) -> tuple[int, int]:
    """'3,5' -> (3, 5): two different digits 0..9."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
            raise UsageError(f"--pair {text!r} must be two digits separated by a comma, like 3,5.")
        pair = [int(p) for p in parts]
    else:
        pair = list(text)
        if len(pair) != 2:
            raise UsageError(f"--pair {text!r} must name exactly two digits.")
    a, b = (check_digit(d, "--pair") for d in pair)
    if a == b:
        raise UsageError(f"--pair names class {a} twice; give two different digits, like 3,5.")
    return a, b


def cv_splitter(cv: int, y=None):
    """The folds scikit-learn uses for ``cv=<int>`` with a classifier, as the seed does: consecutive
    stratified folds (plain K-fold for a multilabel target). No shuffling: MNIST's training images come
    shuffled already, and the seed's figures are measured on these folds."""
    from sklearn.model_selection import check_cv as sk_check_cv

    return sk_check_cv(check_cv(cv), y, classifier=True)


def build(model, params: dict[str, Any] | None = None, seed: int = 42):
    """A registry name becomes a fresh estimator; an estimator is used as given (a library user's own)."""
    if isinstance(model, str):
        return registry.make(model, params, seed=seed)
    return model


def model_name(model) -> str:
    return model if isinstance(model, str) else type(model).__name__


def score_method(estimator) -> str | None:
    """How to get ranking scores from a classifier: decision_function, else predict_proba, else None."""
    for method in ("decision_function", "predict_proba"):
        if hasattr(estimator, method):
            return method
    return None


def _fit(estimator, X, y) -> float:
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        return timed(lambda: estimator.fit(X, y))[1]
    except InvalidParameterError as exc:
        raise ModelError(f"Bad model parameter: {exc}") from None


def out_of_fold(estimator, X, y, splitter, *, scores: bool = False, step: Step = _no_step,
                label: str = "") -> dict[str, Any]:
    """Fit a clone on each training fold and predict its held-out fold.

    Returns ``predictions`` (as ``cross_val_predict``), ``fold_accuracy`` (as ``cross_val_score`` with
    accuracy), with ``scores=True`` also ``scores``: the positive-class decision values or probabilities
    (as ``cross_val_predict(method=...)``), and the mean seconds per fold to fit and to predict.
    """
    X, y = np.asarray(X), np.asarray(y)
    method = score_method(estimator) if scores else None
    predictions = np.empty_like(y)
    oof_scores = np.empty(len(y), dtype=np.float64) if scores else None
    fold_accuracy, fit_s, predict_s = [], [], []
    folds = list(splitter.split(X, y))
    for k, (train, held) in enumerate(folds, 1):
        step(0, description=f"{label} fold {k}/{len(folds)}: fitting on {len(train):,}".strip())
        fold_model = clone(estimator)
        fit_s.append(_fit(fold_model, X[train], y[train]))
        step(0, description=f"{label} fold {k}/{len(folds)}: predicting {len(held):,}".strip())
        pred, seconds = timed(lambda: fold_model.predict(X[held]))
        predict_s.append(seconds)
        predictions[held] = pred
        fold_accuracy.append(float(np.mean(np.all(np.reshape(pred == y[held], (len(held), -1)), axis=1))))
        if method is not None:
            values = getattr(fold_model, method)(X[held])
            if method == "predict_proba":
                values = values[:, 1]
            oof_scores[held] = np.ravel(values)
        step(1)
    out = {"predictions": predictions, "fold_accuracy": fold_accuracy,
           "cv_accuracy": float(np.mean(fold_accuracy)),
           "fit_seconds": float(np.mean(fit_s)), "predict_seconds": float(np.mean(predict_s))}
    if scores:
        out["scores"] = oof_scores
        out["score_method"] = method
    return out


def fit_and_test(estimator, X_train, y_train, X_test, y_test, step: Step = _no_step, label: str = "") -> dict:
    """Refit on the whole train split; accuracy on the test split and on (at most 10,000) training images."""
    step(0, description=f"{label} fitting on all {len(X_train):,} training images".strip())
    fit_seconds = _fit(estimator, X_train, y_train)
    step(0, description=f"{label} predicting {len(X_test):,} test images".strip())
    test_pred, predict_seconds = timed(lambda: estimator.predict(X_test))
    n_score = min(len(X_train), TRAIN_SCORE_LIMIT)
    train_pred = estimator.predict(X_train[:n_score])
    step(1)
    return {
        "train_accuracy": metrics.accuracy(np.asarray(y_train)[:n_score], train_pred),
        "train_accuracy_on": int(n_score),
        "test_accuracy": metrics.accuracy(y_test, test_pred),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "test_predictions": test_pred,
    }


def multiclass(X_train, y_train, X_test, y_test, model="sgd", params: dict[str, Any] | None = None, cv: int = 3,
               pair: str | Sequence[int] = (3, 5), seed: int = 42, step: Step = _no_step) -> dict[str, Any]:
    """Cross-validate ``model`` on the train split, refit it on all of it and score the test split.

    The result holds plain figures (``cv_accuracy``, ``fold_accuracy``, ``per_class``,
    ``test_accuracy``, ...) and arrays for the plots (``confusion_matrix``, ``error_matrix``,
    ``cv_predictions``).
    """
    splitter = cv_splitter(cv, y_train)
    a, b = parse_pair(pair)
    estimator = build(model, params, seed)
    labels = [int(v) for v in np.unique(y_train)]
    step(0, total=cv + 1)
    oof = out_of_fold(estimator, X_train, y_train, splitter, step=step, label=model_name(model))
    confusion = metrics.confusion_matrix(y_train, oof["predictions"], labels)
    tested = fit_and_test(clone(estimator), X_train, y_train, X_test, y_test, step=step, label=model_name(model))
    return {
        "model": model_name(model),
        "params": _params(model, params, seed),
        "cv": int(cv),
        "seed": seed,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "cv_accuracy": oof["cv_accuracy"],
        "fold_accuracy": oof["fold_accuracy"],
        "per_class": metrics.per_class_scores(y_train, oof["predictions"], labels),
        "train_accuracy": tested["train_accuracy"],
        "train_accuracy_on": tested["train_accuracy_on"],
        "test_accuracy": tested["test_accuracy"],
        "fit_seconds": tested["fit_seconds"],
        "predict_seconds": tested["predict_seconds"],
        "cv_fit_seconds": oof["fit_seconds"],
        "pair": [a, b],
        "labels": labels,
        "confusion_matrix": confusion,
        "error_matrix": metrics.error_matrix(confusion),
        "cv_predictions": oof["predictions"],
    }


def _params(model, params, seed: int | None = None):
    """The parameters the model was built with: registry defaults, the seed as random_state, then ``params``."""
    if isinstance(model, str):
        defaults = registry.parameters(model)
        if "random_state" in defaults and seed is not None:
            defaults["random_state"] = seed
        return defaults | dict(params or {})
    return {k: v for k, v in model.get_params(deep=False).items() if isinstance(v, (int, float, str, bool, type(None)))}
