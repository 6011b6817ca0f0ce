"""The chapter commands end to end on mnist-mini: JSON figures, run folders, PNGs, and bad input."""

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict, cross_val_score

from digitlab.cli import main
from digitlab.models import registry

N = "600"


def run_json(capsys, *args):
    capsys.readouterr()
    status = main([*args, "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def assert_pngs(result, names):
    folder = Path(result["run"])
    assert set(names) <= set(result["plots"])
    for name in result["plots"]:
        with Image.open(folder / name) as img:
            assert img.format == "PNG"
            assert np.asarray(img.convert("L"), dtype=float).std() > 0
    for part in ("config.json", "metrics.json"):
        assert json.loads((folder / part).read_text())


@pytest.fixture
def runs(tmp_path):
    return str(tmp_path / "runs")


def test_binary(capsys, runs, mini):
    out = run_json(capsys, "binary", "--digit", "5", "--compare", "never", "--set", "max_iter=100",
                   "--dataset", "mnist-mini", "--n-train", N, "--runs", runs)
    X, y5 = mini.X_train[:int(N)], mini.y_train[:int(N)] == 5
    folds = 3  # scikit-learn's own cv=3, as the seed
    sgd = registry.make("sgd", {"max_iter": 100}, seed=42)
    assert out["cv_accuracy"] == pytest.approx(cross_val_score(sgd, X, y5, cv=folds).mean())
    scores = cross_val_predict(sgd, X, y5, cv=folds, method="decision_function")
    assert out["roc_auc"] == pytest.approx(roc_auc_score(y5, scores))
    assert out["baseline_cv_accuracy"] == pytest.approx(np.mean(y5 == False))  # noqa: E712
    for key in ("cv_accuracy", "precision", "recall", "f1", "roc_auc", "threshold", "precision_at_threshold",
                "recall_at_threshold"):
        assert key in out and key in out["compare"]
    assert out["compare"]["roc_auc"] == pytest.approx(0.5)
    assert_pngs(out, ["precision_recall_vs_threshold.png", "precision_vs_recall.png", "roc_curves.png",
                      "confusion_matrix.png"])


def test_multiclass(capsys, runs, mini):
    out = run_json(capsys, "multiclass", "--model", "knn", "--pair", "3,5", "--dataset", "mnist-mini",
                   "--n-train", N, "--runs", runs)
    X, y = mini.X_train[:int(N)], mini.y_train[:int(N)]
    folds = 3  # scikit-learn's own cv=3, as the seed
    assert out["cv_accuracy"] == pytest.approx(cross_val_score(registry.make("knn"), X, y, cv=folds).mean())
    assert out["test_accuracy"] == pytest.approx(registry.make("knn").fit(X, y).score(mini.X_test, mini.y_test))
    assert len(out["per_class"]) == 10
    assert_pngs(out, ["confusion_matrix.png", "error_matrix.png", "errors_3_5.png"])


def test_multilabel(capsys, runs):
    out = run_json(capsys, "multilabel", "--dataset", "mnist-mini", "--n-train", N, "--runs", runs)
    assert 0.5 < out["f1_macro"] <= 1 and 0.5 < out["f1_weighted"] <= 1
    assert_pngs(out, ["multilabel_confusion.png"])


def test_search_saves_model_and_reaches_leaderboard(capsys, runs):
    out = run_json(capsys, "search", "knn", "--grid", "n_neighbors=3,5", "--cv", "2", "--dataset", "mnist-mini",
                   "--n-train", N, "--runs", runs)
    assert out["best_params"]["n_neighbors"] in (3, 5)
    assert len(out["results"]) == 2
    assert Path(out["model_file"]).is_file()
    assert_pngs(out, ["search_results.png", "test_confusion_matrix.png"])
    from digitlab.models import persist

    loaded = persist.load(out["model_file"])
    assert loaded.estimator.get_params()["n_neighbors"] == out["best_params"]["n_neighbors"]
    board = run_json(capsys, "leaderboard", "--runs", runs)
    row = next(r for r in board["runs"] if r["run"] == Path(out["run"]).name)
    assert row["model"] == "knn" and row["dataset"] == "mnist-mini"
    assert row["test_accuracy"] == pytest.approx(out["test_accuracy"])
    assert row["train_accuracy"] == pytest.approx(out["train_accuracy"])


def test_random_search(capsys, runs):
    out = run_json(capsys, "search", "linear-svc", "--random", "2", "--grid", "C=loguniform:1e-3,1e1", "--cv", "2",
                   "--dataset", "mnist-mini", "--n-train", "300", "--runs", runs)
    assert out["strategy"] == "random" and len(out["results"]) == 2


def test_show(capsys, runs):
    out = run_json(capsys, "show", "--dataset", "mnist-mini", "--n", "20", "--noise", "uniform:100", "--runs", runs)
    assert out["n"] == 20
    assert_pngs(out, ["digits.png", "noisy_pairs.png"])


@pytest.fixture
def noscore_model(monkeypatch):
    """A registry model with neither decision_function nor predict_proba."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class NoScores(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    module = types.ModuleType("noscore_test_module")
    module.make = lambda: NoScores()
    monkeypatch.setitem(sys.modules, "noscore_test_module", module)
    monkeypatch.setitem(registry.MODELS, "noscore",
                        registry.ModelSpec("noscore", "classify", "noscore_test_module:make", "test model"))


@pytest.mark.parametrize("args, words", [
    (["binary", "--digit", "10"], "0 to 9"),
    (["binary", "--digit", "-1"], "0 to 9"),
    (["binary", "--target-precision", "1.5"], "between 0 and 1"),
    (["binary", "--target-precision", "0"], "between 0 and 1"),
    (["binary", "--cv", "1"], "at least 2"),
    (["binary", "--model", "nope"], "Unknown model"),
    (["binary", "--compare", "noscore"], "neither decision_function nor predict_proba"),
    (["multiclass", "--pair", "3,3"], "twice"),
    (["multiclass", "--pair", "3,12"], "0 to 9"),
    (["multiclass", "--cv", "1"], "at least 2"),
    (["multilabel", "--cv", "0"], "at least 2"),
    (["search", "knn", "--grid", "k=3,4"], "does not have"),
    (["search", "knn", "--grid", "n_neighbors="], "empty value"),
    (["search", "knn"], "--grid"),
    (["search", "linear-svc", "--random", "3", "--grid", "C=loguniform:1e-3"], "two numbers"),
    (["search", "linear-svc", "--random", "3", "--grid", "C=weird:1,2"], "unknown distribution"),
    (["search", "linear-svc", "--random", "0", "--grid", "C=1,2"], "at least 1"),
    (["search", "knn", "--grid", "n_neighbors=3", "--cv", "1"], "at least 2"),
    (["show", "--n", "0"], "at least 1"),
])
def test_bad_input(capsys, runs, noscore_model, args, words):
    capsys.readouterr()
    extra = ["--dataset", "mnist-mini", "--runs", runs] + (["--n-train", "200"] if args[0] != "show" else [])
    status = main([*args, *extra])
    err = capsys.readouterr().err
    assert status != 0
    assert words in " ".join(err.split())
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) <= 3


@pytest.mark.full
def test_full_mnist_binary_five(capsys, tmp_path):
    """Seed 002 on all 60,000 training images: 5-vs-rest SGD about 0.95-0.96, never-5 about 0.91."""
    out = run_json(capsys, "binary", "--digit", "5", "--compare", "none", "--dataset", "mnist",
                   "--runs", str(tmp_path))
    assert 0.94 <= out["cv_accuracy"] <= 0.97
    assert 0.90 <= out["baseline_cv_accuracy"] <= 0.92
    assert out["precision_at_threshold"] >= 0.9
