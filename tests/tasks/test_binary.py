"""The binary task's figures equal scikit-learn's own on the same arrays and folds."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import cross_val_predict, cross_val_score

from digitlab.errors import ModelError, UsageError
from digitlab.models import registry
from digitlab.tasks.binary import binary

N = 1000
FAST = {"max_iter": 100}  # the seed's SGD, stopped early to keep the test quick
FOREST = {"n_estimators": 30}


@pytest.fixture(scope="module")
def result(mini):
    return binary((mini.X_train[:N], mini.y_train[:N], mini.X_test, mini.y_test), digit=5, model="sgd",
                  compare="random-forest", cv=3, target_precision=0.9, params=FAST, compare_params=FOREST, seed=42)


def test_figures_match_sklearn(mini, result):
    X, y5 = mini.X_train[:N], mini.y_train[:N] == 5
    folds = 3  # scikit-learn's own cv=3, as the seed
    sgd = registry.make("sgd", FAST, seed=42)
    assert result.metrics["fold_accuracy"] == pytest.approx(cross_val_score(sgd, X, y5, cv=folds, scoring="accuracy").tolist())
    assert result.metrics["cv_accuracy"] == pytest.approx(cross_val_score(sgd, X, y5, cv=folds).mean())
    never = cross_val_score(registry.make("never"), X, y5, cv=folds).mean()
    assert result.metrics["baseline_cv_accuracy"] == pytest.approx(never)
    pred = cross_val_predict(sgd, X, y5, cv=folds)
    assert result.metrics["precision"] == pytest.approx(precision_score(y5, pred))
    assert result.metrics["recall"] == pytest.approx(recall_score(y5, pred))
    assert result.metrics["f1"] == pytest.approx(f1_score(y5, pred))
    scores = cross_val_predict(sgd, X, y5, cv=folds, method="decision_function")
    np.testing.assert_allclose(result.scores, scores)
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y5, scores))
    precisions, recalls, thresholds = precision_recall_curve(y5, scores)
    i = np.argmax(precisions >= 0.9)
    assert result.metrics["threshold"] == pytest.approx(thresholds[i])
    assert result.metrics["precision_at_threshold"] == pytest.approx(precision_score(y5, scores >= thresholds[i]))
    assert result.metrics["recall_at_threshold"] == pytest.approx(recall_score(y5, scores >= thresholds[i]))
    assert result.metrics["precision_at_threshold"] >= 0.9


def test_compared_model_uses_probabilities(mini, result):
    X, y5 = mini.X_train[:N], mini.y_train[:N] == 5
    folds = 3  # scikit-learn's own cv=3, as the seed
    forest = registry.make("random-forest", FOREST, seed=42)
    proba = cross_val_predict(forest, X, y5, cv=folds, method="predict_proba")[:, 1]
    c = result.metrics["compare"]
    assert c["score_method"] == "predict_proba"
    assert c["roc_auc"] == pytest.approx(roc_auc_score(y5, proba))
    assert c["cv_accuracy"] == pytest.approx(cross_val_score(forest, X, y5, cv=folds).mean())
    assert set(c) >= {"cv_accuracy", "precision", "recall", "f1", "roc_auc", "threshold", "precision_at_threshold",
                      "recall_at_threshold"}


class NoScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=bool)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"digit": 10}, UsageError, "0 to 9"),
    ({"digit": -1}, UsageError, "0 to 9"),
    ({"target_precision": 1.0}, UsageError, "between 0 and 1"),
    ({"target_precision": 0.0}, UsageError, "between 0 and 1"),
    ({"cv": 1}, UsageError, "at least 2"),
    ({"model": NoScores()}, ModelError, "neither decision_function nor predict_proba"),
    ({"compare": NoScores()}, ModelError, "neither decision_function nor predict_proba"),
])
def test_bad_input(mini, kwargs, error, words):
    args = {"digit": 5, "model": "sgd", "compare": None, "cv": 3, "target_precision": 0.9, "params": FAST} | kwargs
    if not isinstance(args["model"], str):
        args.pop("params")
    with pytest.raises(error, match=words):
        binary((mini.X_train[:300], mini.y_train[:300], mini.X_test, mini.y_test), **args)
