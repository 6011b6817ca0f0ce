"""The multiclass task's figures equal scikit-learn's on the same arrays and folds."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_score, recall_score
from sklearn.model_selection import cross_val_predict, cross_val_score

from digitlab.errors import UsageError
from digitlab.models import registry
from digitlab.tasks.cv import parse_pair
from digitlab.tasks.multiclass import multiclass

N = 1000
FAST = {"max_iter": 100}


@pytest.fixture(scope="module")
def result(mini):
    return multiclass((mini.X_train[:N], mini.y_train[:N], mini.X_test, mini.y_test), model="sgd-scaled",
                      params=FAST, cv=3, pair="3,5", seed=42)


def test_figures_match_sklearn(mini, result):
    X, y = mini.X_train[:N], mini.y_train[:N]
    folds = 3  # scikit-learn's own cv=3, as the seed
    model = registry.make("sgd-scaled", FAST, seed=42)
    assert result.metrics["fold_accuracy"] == pytest.approx(cross_val_score(model, X, y, cv=folds).tolist())
    pred = cross_val_predict(model, X, y, cv=folds)
    np.testing.assert_array_equal(result.metrics["confusion_matrix"], confusion_matrix(y, pred))
    assert [r["precision"] for r in result.metrics["per_class"]] == pytest.approx(precision_score(y, pred, average=None).tolist())
    assert [r["recall"] for r in result.metrics["per_class"]] == pytest.approx(recall_score(y, pred, average=None).tolist())
    test_acc = registry.make("sgd-scaled", FAST, seed=42).fit(X, y).score(mini.X_test, mini.y_test)
    assert result.metrics["test_accuracy"] == pytest.approx(test_acc)
    rates = np.asarray(result.metrics["error_matrix"])
    assert np.allclose(np.diag(rates), 0)
    cm = confusion_matrix(y, pred)
    assert rates[3, 5] == pytest.approx(cm[3, 5] / cm[3].sum())


@pytest.mark.parametrize("text, words", [
    ("3,3", "twice"), ("3", "two digits"), ("3,10", "0 to 9"), ("a,b", "two digits"), ("1,2,3", "two digits"),
])
def test_bad_pair(text, words):
    with pytest.raises(UsageError, match=words):
        parse_pair(text)


def test_good_pair():
    assert parse_pair(" 3, 5") == (3, 5)


def test_cv_below_two(mini):
    with pytest.raises(UsageError, match="at least 2"):
        multiclass((mini.X_train[:100], mini.y_train[:100], mini.X_test, mini.y_test), cv=1)
