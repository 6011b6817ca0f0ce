"""The metric helpers agree with scikit-learn and with the seed's own recipes."""

import numpy as np
import pytest
from sklearn.metrics import (confusion_matrix, f1_score, precision_recall_curve, precision_score, recall_score,
                             roc_auc_score)

from digitlab.evaluation import metrics


@pytest.fixture
def binary_case():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.2
    scores = y * 1.0 + rng.normal(0, 0.8, 500)
    return y, scores


def test_binary_scores_match_sklearn(binary_case):
    y, scores = binary_case
    pred = scores > 0.5
    got = metrics.binary_scores(y, pred)
    assert got["confusion_matrix"] == confusion_matrix(y, pred).tolist()
    assert got["precision"] == precision_score(y, pred)
    assert got["recall"] == recall_score(y, pred)
    assert got["f1"] == f1_score(y, pred)


def test_threshold_for_precision_is_the_seeds_recipe(binary_case):
    y, scores = binary_case
    got = metrics.threshold_for_precision(y, scores, 0.9)
    precisions, recalls, thresholds = precision_recall_curve(y, scores)
    i = np.argmax(precisions >= 0.9)
    assert got["threshold"] == thresholds[i]
    assert got["recall_at_threshold"] == recalls[i]
    assert got["precision_at_threshold"] == precision_score(y, scores >= thresholds[i])
    assert got["precision_at_threshold"] >= 0.9
    assert got["recall_at_threshold"] == recall_score(y, scores >= thresholds[i])


def test_threshold_for_unreachable_precision_is_none():
    y = np.array([0, 1, 0, 1], dtype=bool)
    scores = np.array([0.9, 0.1, 0.8, 0.2])  # every positive scores below every negative
    got = metrics.threshold_for_precision(y, scores, 0.99)
    assert got["threshold"] is None or got["precision_at_threshold"] >= 0.99


def test_roc_auc(binary_case):
    y, scores = binary_case
    assert metrics.roc_auc(y, scores) == roc_auc_score(y, scores)


def test_error_matrix_rows_and_diagonal():
    cm = np.array([[8, 2, 0], [1, 6, 3], [0, 0, 0]])
    rates = metrics.error_matrix(cm)
    assert np.allclose(np.diag(rates), 0)
    assert rates[0, 1] == pytest.approx(0.2)
    assert rates[1, 2] == pytest.approx(0.3)
    assert np.all(rates[2] == 0)  # a class with no images gives no division by zero


def test_per_class_and_multilabel_scores():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    p = np.array([0, 2, 2, 2, 1, 0, 1])
    rows = metrics.per_class_scores(y, p, [0, 1, 2])
    assert [r["precision"] for r in rows] == pytest.approx(precision_score(y, p, average=None).tolist())
    assert [r["recall"] for r in rows] == pytest.approx(recall_score(y, p, average=None).tolist())
    Y = np.c_[y >= 2, y % 2 == 1]
    P = np.c_[p >= 2, p % 2 == 1]
    got = metrics.multilabel_scores(Y, P, ["large", "odd"])
    assert got["f1_macro"] == f1_score(Y, P, average="macro")
    assert got["f1_weighted"] == f1_score(Y, P, average="weighted")
    assert got["exact_match"] == np.mean(np.all(Y == P, axis=1))
    assert [r["label"] for r in got["labels"]] == ["large", "odd"]


def test_denoise_metrics_still_work():
    clean = np.zeros((2, 784))
    assert metrics.rmse(clean, clean + 5) == pytest.approx(5)
    assert metrics.psnr(clean, clean) == float("inf")
    assert metrics.accuracy([1, 2], [1, 3]) == 0.5
