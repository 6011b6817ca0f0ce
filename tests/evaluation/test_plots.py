"""Each plot draws on the Axes it is given, returns that figure and writes nothing; save_figure writes a real PNG;
importing the module leaves pyplot and the backend alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests may; the library never does
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402

from digitlab.evaluation import plots  # noqa: E402
from digitlab.shapes import N_PIXELS, SIDE  # noqa: E402

RED = to_rgba("tab:red")
GREEN = to_rgba("tab:green")


@pytest.fixture(autouse=True)
def nothing_written(tmp_path, monkeypatch):
    """Every test runs in an empty folder, which must stay empty; figures are closed afterwards."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    plt.close("all")
    assert os.listdir(cwd) == []


@pytest.fixture
def ax():
    return plt.subplots()[1]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture
def digits():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (200, N_PIXELS), dtype=np.uint8)
    y = rng.integers(0, 10, 200)
    pred = y.copy()
    pred[[1, 4, 7]] = (y[[1, 4, 7]] + 1) % 10  # three known errors among the first ten
    return X, y, pred


@pytest.fixture
def binary_case():
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.3
    return y, y * 2.0 + rng.normal(0, 1, 400), np.clip(y * 0.6 + rng.random(400) * 0.5, 0, 1)


# ----------------------------------------------------------------------------- import and saving


def test_import_neither_imports_pyplot_nor_switches_the_backend():
    script = """
import json, sys, matplotlib
matplotlib.use("svg")
import digitlab.evaluation.plots as plots
after_import = "matplotlib.pyplot" in sys.modules
fig = plots.digit_gallery([[0] * 784] * 3)
print(json.dumps([after_import, matplotlib.get_backend(), type(fig).__name__]))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(plots.__file__).parents[2])}
    env.pop("MPLBACKEND", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == [False, "svg", "Figure"]


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path, digits):
    X, y, _ = digits
    fig = plots.digit_gallery(X[:20], y[:20])
    assert plt.fignum_exists(fig.number)  # ax=None: a pyplot figure, shown inline in a notebook
    path = plots.save_figure(fig, tmp_path / "out" / "d.png")
    assert path == tmp_path / "out" / "d.png"
    assert os.listdir(path.parent) == ["d.png"]  # no temporary file left beside it
    with Image.open(path) as img:
        assert img.format == "PNG"
        pixels = np.asarray(img.convert("L"), dtype=np.float64)
    assert pixels.std() > 0 and min(pixels.shape) > 50
    assert not plt.fignum_exists(fig.number)


def test_save_figure_takes_a_figure_made_without_pyplot(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    plots.confusion([[5, 1], [2, 7]], ["a", "b"], ax=fig.subplots())
    assert plots.save_figure(fig, tmp_path / "m.png").stat().st_size > 1000


def test_tile_lays_digits_in_rows_with_gaps():
    grid = plots.tile(np.full((7, N_PIXELS), 255), per_row=3, pad=1)
    assert grid.shape == (3 * (SIDE + 1) + 1, 3 * (SIDE + 1) + 1)
    assert grid.sum() == 7 * N_PIXELS * 255
    assert (grid[0] == 0).all() and (grid[:, SIDE + 1] == 0).all()


# ----------------------------------------------------------------------------- galleries


def test_digit_gallery_marks_wrong_predictions(ax, digits):
    X, y, pred = digits
    fig = plots.digit_gallery(X[:10], y[:10], pred[:10], per_row=5, ax=ax)
    assert fig is ax.figure
    assert len(ax.images) == 1  # one tiled image
    assert ax.images[0].get_array().shape[1] == 5 * SIDE + 4 * 2  # five to a row, 2-pixel gaps
    red = [t.get_text() for t in ax.texts if to_rgba(t.get_color()) == RED]
    assert red == [f"{pred[i]} (true {y[i]})" for i in (1, 4, 7)]
    assert len(ax.texts) == 10
    assert "3 of 10 wrong" in ax.get_title()


def test_digit_gallery_with_labels_only(ax, digits):
    X, y, _ = digits
    plots.digit_gallery(X[:12], [f"c{v}" for v in y[:12]], title="Twelve", ax=ax)
    assert texts(ax) == [f"c{v}" for v in y[:12]]
    assert ax.get_title() == "Twelve"


def test_misclassified_gallery_shows_truth_prediction_and_confidence(ax, digits):
    X, y, pred = digits
    confidence = np.linspace(0.5, 1.0, 200)
    fig = plots.misclassified_gallery(X, y, pred, confidence, n=2, ax=ax)
    assert fig is ax.figure
    assert sorted(texts(ax)) == sorted([f"true {y[1]}", f"pred {pred[1]} ({confidence[1]:.0%})",
                                        f"true {y[4]}", f"pred {pred[4]} ({confidence[4]:.0%})"])
    assert "(3 of 200)" in ax.get_title()


def test_misclassified_gallery_without_errors(ax, digits):
    X, y, _ = digits
    plots.misclassified_gallery(X[:5], y[:5], y[:5], ax=ax)
    assert texts(ax) == ["no errors: all 5 predictions are right"]
    assert not ax.images


def test_denoise_grid_heads_columns_with_scores(ax, digits):
    X, _, _ = digits
    noisy = X[:5].astype(int) + 100
    scores = {"psnr": 21.04, "noisy_psnr": 12.31, "rmse": 22.6, "noisy_rmse": 61.9, "ssim": 0.8123}
    fig = plots.denoise_grid(noisy, X[:5] // 2, X[:5], n=3, scores=scores, ax=ax)
    assert fig is ax.figure
    headers = texts(ax)
    assert headers[:4] == ["noisy input\nPSNR 12.3 dB", "cleaned\nPSNR 21.0 dB\nSSIM 0.812", "truth",
                           "|difference|\nRMSE 22.6"]
    assert "61.9 noisy, 22.6 cleaned" in headers[4]
    canvas = ax.images[0].get_array()
    assert canvas.shape[1] == 4 * SIDE + 3 * 6 and canvas.max() == 255  # noisy input clipped
    assert ax.get_title() == "Denoising"


def test_denoise_grid_without_scores(ax, digits):
    X, _, _ = digits
    plots.denoise_grid(X[:2], X[:2], X[:2], ax=ax)
    assert texts(ax) == ["noisy input", "cleaned", "truth", "|difference|"]


def test_noisy_pairs_names_rows_and_labels(ax, digits):
    X, y, _ = digits
    fig = plots.noisy_pairs(X[:4], X[:4].astype(int) + 100, labels=y[:4], ax=ax)
    assert fig is ax.figure
    assert texts(ax) == [str(v) for v in y[:4]] + ["clean", "noisy"]
    assert len(ax.images) == 1


def test_error_gallery_frames_and_counts(ax, digits):
    X, y, pred = digits
    fig = plots.error_gallery(X, y, pred, 3, 5, ax=ax)
    assert fig is ax.figure
    frames = [to_rgba(p.get_edgecolor()) for p in ax.patches]
    assert frames.count(GREEN) == 2 and frames.count(RED) == 2
    for actual, predicted in [(3, 3), (3, 5), (5, 3), (5, 5)]:
        count = int(np.sum((y == actual) & (pred == predicted)))
        verdict = "correct" if actual == predicted else "error"
        assert f"{verdict}: {count:,} image{'' if count == 1 else 's'}" in texts(ax)
    assert {"predicted 3", "predicted 5", "actual 3", "actual 5"} <= set(texts(ax))
    assert legend_texts(ax) == ["correctly classified", "misclassified"]


def test_error_gallery_with_empty_blocks(ax, digits):
    X, y, _ = digits
    keep = y == 3
    plots.error_gallery(X[keep], y[keep], y[keep], 3, 5, ax=ax)
    assert texts(ax).count("none") == 3


# ----------------------------------------------------------------------------- curves


def test_precision_recall_vs_threshold(ax, binary_case):
    y, scores, _ = binary_case
    fig = plots.precision_recall_vs_threshold(y, scores, threshold=1.0, target=0.9, ax=ax)
    assert fig is ax.figure
    labels = legend_texts(ax)
    assert labels[:2] == ["precision", "recall"] and "threshold 1" in labels and "target precision 0.9" in labels
    assert ax.get_xlim()[0] <= 1.0 <= ax.get_xlim()[1]


def test_precision_vs_recall_and_roc(binary_case):
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s1, s2 = binary_case
    curves = [{"name": "sgd", "y_true": y, "scores": s1, "threshold": 1.0, "point": (0.5, 0.9)},
              {"name": "forest", "y_true": y, "scores": s2, "threshold": None, "point": (None, None)}]
    fig, ax = plt.subplots()
    assert plots.precision_vs_recall(curves, ax=ax) is fig
    assert f"sgd (average precision {average_precision_score(y, s1):.4f})" in legend_texts(ax)
    assert "sgd at the threshold: recall 0.500, precision 0.900" in legend_texts(ax)
    fig, ax = plt.subplots(figsize=(7, 7.5), layout="constrained")
    assert plots.roc_curves(curves, ax=ax) is fig
    assert f"forest (AUC = {roc_auc_score(y, s2):.4f})" in legend_texts(ax)
    fig.draw_without_rendering()
    frame = ax.get_window_extent()
    assert ax.get_legend().get_window_extent().y1 <= frame.y0  # the legend is below the chart, over no curve
    (zoom,) = ax.child_axes
    x0, y1 = zoom.get_position().x0, zoom.get_position().y1
    corner = ax.transData.inverted().transform(fig.transFigure.transform((x0, y1)))
    assert corner[1] < corner[0]  # the zoom lies under the chance diagonal


def test_training_history_marks_the_best_epoch(ax):
    history = [{"epoch": 1, "loss": 0.9, "lr": 1e-3, "val_loss": 0.5, "val_score": 0.90},
               {"epoch": 2, "loss": 0.4, "lr": 1e-3, "val_loss": 0.3, "val_score": 0.95},
               {"epoch": 3, "loss": 0.2, "lr": 1e-4, "val_loss": 0.35, "val_score": 0.94}]
    fig = plots.training_history(history, ax=ax)
    assert fig is ax.figure
    assert len(fig.axes) == 2  # the twin axis for the validation score
    assert legend_texts(ax) == ["training loss", "validation loss", "validation accuracy",
                                "best epoch 2: validation accuracy 0.9500"]
    assert list(ax.lines[0].get_ydata()) == [0.9, 0.4, 0.2]


def test_training_history_without_validation(ax):
    fig = plots.training_history([{"epoch": e, "loss": 1 / e} for e in (1, 2, 3)], title="t", ax=ax)
    assert len(fig.axes) == 1 and legend_texts(ax) == ["training loss"] and ax.get_title() == "t"


# ----------------------------------------------------------------------------- matrices


def test_confusion_and_error_matrix(ax):
    cm = np.array([[50, 2, 0], [3, 40, 1], [0, 4, 45]])
    fig = plots.confusion(cm, ["a", "b", "c"], colorbar_label="digits", ax=ax)
    assert fig is ax.figure
    assert sorted(texts(ax)) == sorted(str(v) for v in cm.ravel())
    assert ax.images[0].colorbar.ax.get_ylabel() == "digits"
    rates = cm / cm.sum(axis=1, keepdims=True)
    np.fill_diagonal(rates, 0)
    fig, ax2 = plt.subplots()
    plots.error_matrix(rates, ["a", "b", "c"], ax=ax2)
    assert "8.2" in texts(ax2)  # 4 of the 49 c images read as b, in percent
    assert "%" in ax2.images[0].colorbar.ax.get_ylabel()


def test_multilabel_confusion_on_given_axes():
    rng = np.random.default_rng(4)
    Y = rng.random((300, 2)) < 0.4
    P = np.where(rng.random((300, 2)) < 0.1, ~Y, Y)
    fig, axes = plt.subplots(1, 2)
    assert plots.multilabel_confusion(Y, P, ["large", "odd"], ax=axes) is fig
    assert [a.get_title() for a in axes] == ["label: large", "label: odd"]
    tn = int(np.sum(~Y[:, 1] & ~P[:, 1]))
    assert str(tn) in texts(axes[1])
    with pytest.raises(ValueError, match="2 panel"):
        plots.multilabel_confusion(Y, P, ["large", "odd"], ax=axes[0])


# ----------------------------------------------------------------------------- charts


def test_search_results_bars_give_the_best_its_own_entry(ax):
    results = [{"rank": i + 1, "params": {"n_neighbors": 3 + i, "weights": w},
                "mean_cv_accuracy": 0.97 - 0.01 * i, "std_cv_accuracy": 0.002}
               for i, w in enumerate(["distance", "uniform", "distance"])]
    fig = plots.search_results(results, test_accuracy=0.971, ax=ax)
    assert fig is ax.figure
    labels = legend_texts(ax)
    assert labels[0].startswith("best candidate") and labels[1].startswith("other candidates")
    assert labels[2] == "test accuracy of the refit best: 0.9710"
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "n_neighbors=3 weights=distance"


def test_search_curve_for_one_numeric_parameter(ax):
    results = [{"rank": r, "params": {"C": c}, "mean_cv_accuracy": m, "std_cv_accuracy": 0.003}
               for r, c, m in [(2, 0.001, 0.90), (1, 0.05, 0.92), (3, 5.0, 0.89)]]
    from digitlab.evaluation._charts import _varying_numeric

    assert _varying_numeric(results) == "C"
    plots.search_results(results, test_accuracy=0.915, ax=ax)
    assert ax.get_xscale() == "log"
    assert "best: C=0.05, CV 0.9200" in legend_texts(ax)


LEADERBOARD = [{"model": "cnn", "set": {"preset": "fast"}, "test_accuracy": 0.9905},
               {"model": "knn-fast", "test_accuracy": 0.9849}, {"model": "sgd", "test_accuracy": 0.884},
               {"model": "never", "test_accuracy": 0.1135},
               {"model": "knn-denoise", "psnr": 14.7}, {"model": "dae-conv", "psnr": 30.28}]


def test_leaderboard_chart_keeps_good_models_apart():
    fig, axes = plt.subplots(1, 2)
    assert plots.leaderboard_chart(LEADERBOARD, title="demo", ax=axes) is fig
    accuracy, psnr = axes
    assert [t.get_text() for t in accuracy.get_yticklabels()] == ["never", "sgd", "knn-fast", "cnn preset=fast"]
    lo, hi = accuracy.get_xlim()
    assert 0.8 < lo < 0.884 and hi <= 1.0  # the baseline does not pull the axis to 0
    assert "0.1135 (below the axis)" in texts(accuracy)
    assert {"0.9905", "0.9849", "0.8840"} <= set(texts(accuracy))
    assert [t.get_text() for t in psnr.get_yticklabels()] == ["knn-denoise", "dae-conv"]
    assert fig.get_suptitle() == "demo"


def test_leaderboard_chart_draws_only_the_kinds_present():
    fig = plots.leaderboard_chart(LEADERBOARD[:3])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "Leaderboard: classifiers" and not fig.get_suptitle()
    assert not any("below the axis" in t for t in texts(fig.axes[0]))


def test_accuracy_vs_time_labels_points_without_overlap(ax):
    rows = [{"model": "never", "test_accuracy": 0.11, "fit_seconds": 0.01},
            {"model": "sgd", "test_accuracy": 0.884, "fit_seconds": 9.5},
            {"model": "knn-fast", "test_accuracy": 0.9849, "fit_seconds": 8.5},
            {"model": "knn-fast", "label": "knn-fast shift", "test_accuracy": 0.9871, "fit_seconds": 26.5},
            {"model": "cnn", "test_accuracy": 0.9968, "fit_seconds": 700},
            {"model": "knn-denoise", "psnr": 14.7, "fit_seconds": 3.0}]
    fig = plots.accuracy_vs_time(rows, [{"label": "record", "accuracy": 0.9979}], ax=ax)
    assert fig is ax.figure
    assert ax.get_xscale() == "log" and ax.get_yscale() == "logit"
    assert sorted(texts(ax)) == sorted(["never", "sgd", "knn-fast", "knn-fast shift", "cnn", "record: 99.79 %"])
    assert len(ax.collections[0].get_offsets()) == 5
    fig.draw_without_rendering()
    boxes = [Text.get_window_extent(t) for t in ax.texts]  # the text alone, not its leader line
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
