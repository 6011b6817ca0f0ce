"""Every plot writes a real PNG that is not blank."""

import numpy as np
import pytest
from PIL import Image

from digitlab.evaluate import plots


def assert_png(path):
    """A valid PNG whose pixels are not all one colour."""
    assert path.is_file()
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.verify()
    with Image.open(path) as img:
        pixels = np.asarray(img.convert("L"), dtype=np.float64)
    assert pixels.std() > 0
    assert min(pixels.shape) > 50


@pytest.fixture
def binary_case():
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.3
    return y, y * 2.0 + rng.normal(0, 1, 400), np.clip(y * 0.6 + rng.random(400) * 0.5, 0, 1)


def test_precision_recall_vs_threshold(tmp_path, binary_case):
    y, scores, _ = binary_case
    assert_png(plots.precision_recall_vs_threshold(y, scores, tmp_path / "a.png", threshold=1.0, target=0.9))
    assert_png(plots.precision_recall_vs_threshold(y, scores, tmp_path / "b.png"))


def test_precision_vs_recall_and_roc(tmp_path, binary_case):
    y, s1, s2 = binary_case
    curves = [{"name": "sgd", "y_true": y, "scores": s1, "threshold": 1.0, "point": (0.5, 0.9)},
              {"name": "forest", "y_true": y, "scores": s2, "threshold": None, "point": (None, None)}]
    assert_png(plots.precision_vs_recall(curves, tmp_path / "pr.png"))
    assert_png(plots.roc_curves(curves, tmp_path / "roc.png"))


def test_confusion_and_error_matrix(tmp_path):
    rng = np.random.default_rng(2)
    cm = rng.integers(0, 50, (10, 10)) + np.eye(10, dtype=int) * 500
    assert_png(plots.confusion(cm, list(range(10)), tmp_path / "cm.png"))
    rates = cm / cm.sum(axis=1, keepdims=True)
    np.fill_diagonal(rates, 0)
    assert_png(plots.error_matrix(rates, list(range(10)), tmp_path / "err.png"))


def test_error_gallery_and_galleries(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (200, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 200)
    pred = np.where(rng.random(200) < 0.3, rng.integers(0, 10, 200), y)
    assert_png(plots.error_gallery(X, y, pred, 3, 5, tmp_path / "g.png"))
    assert_png(plots.error_gallery(X[:3], y[:3], pred[:3], 3, 5, tmp_path / "empty.png"))  # empty cells
    assert_png(plots.digit_gallery(X[:20], tmp_path / "d.png", labels=y[:20]))
    assert_png(plots.noisy_pairs(X[:8], X[:8].astype(int) + 100, tmp_path / "n.png", labels=y[:8]))


def test_multilabel_and_search(tmp_path):
    rng = np.random.default_rng(4)
    Y = rng.random((300, 2)) < 0.4
    P = np.where(rng.random((300, 2)) < 0.1, ~Y, Y)
    assert_png(plots.multilabel_confusion(Y, P, ["large", "odd"], tmp_path / "ml.png"))
    results = [{"rank": i + 1, "params": {"n_neighbors": 3 + i, "weights": "distance"},
                "mean_cv_accuracy": 0.97 - 0.01 * i, "std_cv_accuracy": 0.002} for i in range(3)]
    assert_png(plots.search_results(results, tmp_path / "s.png", test_accuracy=0.971))


def test_search_curve_for_one_numeric_parameter(tmp_path):
    results = [{"rank": r, "params": {"C": c}, "mean_cv_accuracy": m, "std_cv_accuracy": 0.003}
               for r, c, m in [(2, 0.001, 0.90), (1, 0.05, 0.92), (3, 5.0, 0.89)]]
    assert plots._varying_numeric(results) == "C"
    assert_png(plots.search_results(results, tmp_path / "c.png", test_accuracy=0.915))
