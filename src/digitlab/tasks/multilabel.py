"""Multilabel classification (seed 002): two tags per digit, ``>= 7`` and ``odd``, predicted together by one
model (k-NN handles several labels natively; other models get one copy per label).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from ..evaluate import metrics
from .multiclass import (TRAIN_SCORE_LIMIT, Step, _fit, _no_step, _params, build, cv_splitter, model_name,
                         out_of_fold)
from ..runs import timed

LABELS = ("large (>= 7)", "odd")


def seed_labels(y) -> np.ndarray:
    """The seed's two tags of each digit: (digit >= 7, digit is odd), as an (n, 2) bool array."""
    y = np.asarray(y)
    return np.c_[y >= 7, y % 2 == 1]


def _multilabel_capable(estimator):
    """The estimator itself when it takes a 2-D label array, else one clone per label."""
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.utils import get_tags

    try:
        native = get_tags(estimator).target_tags.multi_output
    except Exception:
        native = False
    return estimator if native else MultiOutputClassifier(estimator)


def multilabel(X_train, y_train, X_test, y_test, model="knn", params: dict[str, Any] | None = None, cv: int = 3,
               seed: int = 42, step: Step = _no_step) -> dict[str, Any]:
    """Cross-validated F1 (macro and weighted) of the two tags on the train split, then the test scores
    of the model refit on all of it."""
    Y_train, Y_test = seed_labels(y_train), seed_labels(y_test)
    splitter = cv_splitter(cv, Y_train)  # K-fold, as cross_val_predict(cv=3) on the two tags
    estimator = _multilabel_capable(build(model, params, seed))
    step(0, total=cv + 1)
    oof = out_of_fold(estimator, X_train, Y_train, splitter, step=step, label=model_name(model))
    cv_scores = metrics.multilabel_scores(Y_train, oof["predictions"], LABELS)
    step(0, description=f"fitting on all {len(y_train):,} training images")
    final = clone(estimator)
    fit_seconds = _fit(final, X_train, Y_train)
    step(0, description=f"predicting {len(y_test):,} test images")
    test_pred, predict_seconds = timed(lambda: final.predict(X_test))
    n_score = min(len(y_train), TRAIN_SCORE_LIMIT)
    train_pred = final.predict(X_train[:n_score])
    step(1)
    test_scores = metrics.multilabel_scores(Y_test, test_pred, LABELS)
    train_scores = metrics.multilabel_scores(Y_train[:n_score], train_pred, LABELS)
    return {
        "model": model_name(model),
        "params": _params(model, params, seed),
        "labels": list(LABELS),
        "cv": int(cv),
        "seed": seed,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "f1_macro": cv_scores["f1_macro"],
        "f1_weighted": cv_scores["f1_weighted"],
        # Exact-match ratios (both tags right), kept apart from digit accuracy so the leaderboard does not mix them.
        "cv_exact_match": cv_scores["exact_match"],
        "fold_accuracy": oof["fold_accuracy"],
        "per_label": cv_scores["labels"],
        "test_f1_macro": test_scores["f1_macro"],
        "test_f1_weighted": test_scores["f1_weighted"],
        "test_exact_match": test_scores["exact_match"],
        "train_exact_match": train_scores["exact_match"],
        "train_exact_match_on": int(n_score),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "cv_fit_seconds": oof["fit_seconds"],
        "Y_true": Y_train,
        "cv_predictions": oof["predictions"],
        "Y_test": Y_test,
        "test_predictions": test_pred,
    }
