"""One digit against the rest (seed 002): cross-validated accuracy beside the never-this-digit baseline,
confusion matrix, precision, recall, F1, the threshold that reaches a target precision, and ROC AUC,
for a model and a second one to compare it with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelError, UsageError
from ..evaluate import metrics
from .multiclass import (Step, _no_step, _params, build, check_digit, cv_splitter, model_name, out_of_fold,
                         score_method)


def check_target_precision(value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise UsageError(f"--target-precision must be between 0 and 1 (exclusive), got {value}.")
    return float(value)


def _require_scores(estimator, name: str) -> None:
    if score_method(estimator) is None:
        raise ModelError(f"Model {name!r} has neither decision_function nor predict_proba, "
                         f"so it gives no scores for precision-recall and ROC curves.")


def _evaluate(estimator, name, params, X, y, splitter, target, step) -> dict[str, Any]:
    oof = out_of_fold(estimator, X, y, splitter, scores=True, step=step, label=name)
    result = {"model": name, "params": params, "cv_accuracy": oof["cv_accuracy"],
              "fold_accuracy": oof["fold_accuracy"], "score_method": oof["score_method"]}
    result |= metrics.binary_scores(y, oof["predictions"])
    result["roc_auc"] = metrics.roc_auc(y, oof["scores"])
    result |= metrics.threshold_for_precision(y, oof["scores"], target)
    result |= {"fit_seconds": oof["fit_seconds"], "predict_seconds": oof["predict_seconds"],
               "scores": oof["scores"]}
    return result


def binary(X, y, digit: int = 5, model="sgd", compare="random-forest", cv: int = 3,
           target_precision: float = 0.9, params: dict[str, Any] | None = None,
           compare_params: dict[str, Any] | None = None, seed: int = 42, step: Step = _no_step) -> dict[str, Any]:
    """Cross-validate ``model`` and ``compare`` (None to skip) on ``y == digit`` over the training images.

    Figures of ``model`` are at the top level, those of ``compare`` under ``"compare"``; ``scores``
    (out-of-fold decision values or positive-class probabilities) and ``y_true`` are kept for plots.
    """
    digit = check_digit(digit)
    target = check_target_precision(target_precision)
    y_bin = np.asarray(y) == digit
    splitter = cv_splitter(cv, y_bin)
    if not y_bin.any():
        raise UsageError(f"The training images hold no {digit}, so there is nothing to detect.")
    main = build(model, params, seed)
    _require_scores(main, model_name(model))
    other = None
    if compare is not None:
        other = build(compare, compare_params, seed)
        _require_scores(other, model_name(compare))
    step(0, total=cv * (3 if other is not None else 2))
    result = _evaluate(main, model_name(model), _params(model, params, seed), X, y_bin, splitter, target, step)
    baseline = out_of_fold(build("never"), X, y_bin, splitter, step=step, label="never")
    out = {"digit": digit, "cv": int(cv), "seed": seed, "n_train": int(len(y_bin)),
           "positives": int(y_bin.sum()), "target_precision": target, **result,
           "baseline_cv_accuracy": baseline["cv_accuracy"], "baseline_fold_accuracy": baseline["fold_accuracy"]}
    if other is not None:
        out["compare"] = _evaluate(other, model_name(compare), _params(compare, compare_params, seed), X, y_bin, splitter,
                                   target, step)
    out["y_true"] = y_bin
    return out
