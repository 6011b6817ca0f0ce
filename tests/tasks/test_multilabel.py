"""The multilabel task (>= 7, odd) equals scikit-learn's k-NN with cross_val_predict on the same folds."""

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import cross_val_predict

from digitlab.models import registry
from digitlab.tasks.multilabel import multilabel, digit_tags

N = 1000


def test_digit_tags():
    np.testing.assert_array_equal(digit_tags([5, 7, 8, 0]), [[False, True], [True, True], [True, False],
                                                                [False, False]])


def test_f1_matches_sklearn(mini):
    X, y = mini.X_train[:N], mini.y_train[:N]
    result = multilabel((X, y, mini.X_test, mini.y_test), model="knn", cv=3, seed=42)
    Y = np.c_[y >= 7, y % 2 == 1]
    folds = 3  # scikit-learn's own cv=3, as the seed (K-fold for a multilabel target)
    pred = cross_val_predict(registry.make("knn"), X, Y, cv=folds)
    assert result.metrics["f1_macro"] == pytest.approx(f1_score(Y, pred, average="macro"))
    assert result.metrics["f1_weighted"] == pytest.approx(f1_score(Y, pred, average="weighted"))
    Y_test = np.c_[mini.y_test >= 7, mini.y_test % 2 == 1]
    test_pred = registry.make("knn").fit(X, Y).predict(mini.X_test)
    assert result.metrics["test_f1_macro"] == pytest.approx(f1_score(Y_test, test_pred, average="macro"))


def test_model_without_native_multilabel_is_wrapped(mini):
    result = multilabel((mini.X_train[:600], mini.y_train[:600], mini.X_test[:200], mini.y_test[:200]), model="sgd",
                        params={"max_iter": 50}, cv=2)
    assert 0.5 < result.metrics["f1_macro"] <= 1.0
