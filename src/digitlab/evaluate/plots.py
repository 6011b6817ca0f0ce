"""Plots as PNG files: digit galleries and denoising grids (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..fileio import atomic_path  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write a figure to a PNG atomically and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def tile(images, per_row: int = 10, pad: int = 1) -> np.ndarray:
    """Arrange (n, 784) or (n, 28, 28) images in a grid image, with a thin gap between digits."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, 28, 28)
    n = len(images)
    per_row = max(1, min(per_row, n))
    rows = -(-n // per_row)
    cell = 28 + pad
    grid = np.zeros((rows * cell + pad, per_row * cell + pad))
    for i, img in enumerate(images):
        r, c = divmod(i, per_row)
        grid[pad + r * cell: pad + r * cell + 28, pad + c * cell: pad + c * cell + 28] = img
    return grid


def digit_gallery(images, path, labels: Sequence | None = None, per_row: int = 10, title: str = "Digits") -> Path:
    """A grid of digits, each titled with its label when labels are given."""
    images = np.asarray(images).reshape(-1, 28, 28)
    n = len(images)
    per_row = max(1, min(per_row, n))
    rows = -(-n // per_row)
    fig, axes = plt.subplots(rows, per_row, figsize=(per_row * 0.9, rows * 1.0 + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.ravel()[i]
        ax.imshow(img, cmap="binary", vmin=0, vmax=255, interpolation="nearest")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8, pad=2)
    fig.suptitle(title)
    return save_figure(fig, path)


def denoise_grid(noisy, cleaned, clean, path, n: int = 8, title: str = "Denoising") -> Path:
    """Rows of noisy input / cleaned / truth / |difference| for the first ``n`` images."""
    n = min(n, len(clean))
    noisy = np.clip(np.asarray(noisy[:n], dtype=np.float64), 0, 255)
    cleaned = np.asarray(cleaned[:n], dtype=np.float64)
    clean = np.asarray(clean[:n], dtype=np.float64)
    columns = [("noisy input", noisy), ("cleaned", cleaned), ("truth", clean), ("|difference|", np.abs(clean - cleaned))]
    fig, axes = plt.subplots(n, 4, figsize=(4 * 1.4, n * 1.4 + 0.5), squeeze=False)
    for col, (name, images) in enumerate(columns):
        for row in range(n):
            ax = axes[row, col]
            ax.imshow(images[row].reshape(28, 28), cmap="binary", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0:
                ax.set_title(name, fontsize=9)
    fig.suptitle(title)
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- classification chapter


def _score_limits(scores) -> tuple[float, float]:
    """An x range that shows the bulk of the scores, not a few extreme ones."""
    lo, hi = np.percentile(np.asarray(scores, dtype=np.float64), [0.5, 99.5])
    pad = 0.05 * (hi - lo or 1.0)
    return float(lo - pad), float(hi + pad)


def precision_recall_vs_threshold(y_true, scores, path, threshold: float | None = None, target: float | None = None,
                                  title: str = "Precision and recall against the decision threshold",
                                  score_label: str = "decision threshold") -> Path:
    """Precision (dashed) and recall (solid) as the threshold moves, with the chosen threshold marked."""
    from sklearn.metrics import precision_recall_curve

    precisions, recalls, thresholds = precision_recall_curve(np.asarray(y_true, dtype=bool), scores)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(thresholds, precisions[:-1], "b--", linewidth=2, label="precision")
    ax.plot(thresholds, recalls[:-1], "g-", linewidth=2, label="recall")
    lo, hi = _score_limits(scores)
    if threshold is not None:
        i = int(np.searchsorted(thresholds, threshold))
        p, r = precisions[i], recalls[i]
        lo, hi = min(lo, threshold), max(hi, threshold)
        ax.axvline(threshold, color="r", linestyle=":", label=f"threshold {threshold:.4g}")
        ax.plot([threshold, threshold], [p, r], "ro", label=f"precision {p:.3f}, recall {r:.3f}")
        if target is not None:
            ax.axhline(target, color="grey", linestyle=":", linewidth=1, label=f"target precision {target:g}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(score_label.capitalize())
    ax.set_ylabel("Precision / recall")
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    ax.legend(loc="center left", fontsize=9)
    return save_figure(fig, path)


def precision_vs_recall(curves: Sequence[dict], path, title: str = "Precision against recall") -> Path:
    """One precision-recall curve per model (``name``, ``y_true``, ``scores``, optional ``point``=(recall, precision))."""
    from sklearn.metrics import PrecisionRecallDisplay

    fig, ax = plt.subplots(figsize=(7, 6))
    for curve in curves:
        display = PrecisionRecallDisplay.from_predictions(np.asarray(curve["y_true"], dtype=bool), curve["scores"],
                                                          ax=ax, name=curve["name"], curve_kwargs={"linewidth": 2})
        display.line_.set_label(f"{curve['name']} (average precision {display.average_precision:.4f})")
        color = display.line_.get_color()
        point = curve.get("point")
        if point is not None and point[0] is not None:
            r, p = point
            ax.plot([r, r], [0, p], ":", color=color, linewidth=1)
            ax.plot([0, r], [p, p], ":", color=color, linewidth=1)
            ax.plot([r], [p], "o", color=color, markeredgecolor="k",
                    label=f"{curve['name']} at the threshold: recall {r:.3f}, precision {p:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    ax.legend(loc="lower left", fontsize=9)
    return save_figure(fig, path)


def roc_curves(curves: Sequence[dict], path, title: str = "ROC curves") -> Path:
    """ROC curves of several models on one chart (``name``, ``y_true``, ``scores``, optional ``threshold``)."""
    from sklearn.metrics import RocCurveDisplay, roc_curve

    fig, ax = plt.subplots(figsize=(7, 6))
    zoom = ax.inset_axes([0.42, 0.36, 0.5, 0.34])
    styles = ["-", "--", "-.", ":"]
    for n, curve in enumerate(curves):
        y_true = np.asarray(curve["y_true"], dtype=bool)
        display = RocCurveDisplay.from_predictions(
            y_true, curve["scores"], ax=ax, name=curve["name"], plot_chance_level=(n == len(curves) - 1),
            curve_kwargs={"linewidth": 2, "linestyle": styles[n % len(styles)]})
        display.line_.set_label(f"{curve['name']} (AUC = {display.roc_auc:.4f})")
        zoom.plot(display.fpr, display.tpr, linewidth=2, linestyle=styles[n % len(styles)],
                  color=display.line_.get_color())
        threshold = curve.get("threshold")
        if threshold is not None:
            fpr, tpr, thresholds = roc_curve(y_true, curve["scores"], drop_intermediate=False)
            i = int(np.flatnonzero(thresholds >= threshold)[-1])  # the point where score >= threshold
            for axes in (ax, zoom):
                axes.plot([fpr[i]], [tpr[i]], "o", color=display.line_.get_color(), markeredgecolor="k",
                          label=f"{curve['name']} at the threshold: FPR {fpr[i]:.4f}, TPR {tpr[i]:.3f}")
    zoom.set_xlim(0, 0.1)
    zoom.set_ylim(0.7, 1.0)
    zoom.set_title("zoom: top-left corner", fontsize=8)
    zoom.tick_params(labelsize=7)
    zoom.grid(True, alpha=0.4)
    ax.set_xlim(-0.01, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("False positive rate (1 - specificity)")
    ax.set_ylabel("True positive rate (recall)")
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    ax.legend(loc="lower right", fontsize=9)
    return save_figure(fig, path)


def confusion(matrix, labels, path, title: str = "Confusion matrix", xlabel: str = "Predicted class",
              ylabel: str = "Actual class", values_format: str | None = None,
              colorbar_label: str = "images") -> Path:
    """A confusion-style matrix with its values written in the cells and a labelled colour bar."""
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = np.asarray(matrix)
    size = max(4.5, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    display = ConfusionMatrixDisplay(matrix, display_labels=[str(label) for label in labels])
    fmt = values_format or ("d" if np.issubdtype(matrix.dtype, np.integer) else ".2f")
    display.plot(ax=ax, cmap="Blues", values_format=fmt, colorbar=True, text_kw={"fontsize": 8 if len(labels) > 6 else 11})
    display.figure_.axes[-1].set_ylabel(colorbar_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save_figure(fig, path)


def error_matrix(rates, labels, path, title: str = "Errors: share of each actual class predicted as another",
                 xlabel: str = "Predicted class", ylabel: str = "Actual class") -> Path:
    """The row-normalised confusion matrix with its diagonal zeroed, in percent."""
    return confusion(np.asarray(rates, dtype=np.float64) * 100, labels, path, title=title, values_format=".1f",
                     colorbar_label="% of the actual class's images", xlabel=xlabel, ylabel=ylabel)


def error_gallery(X, y_true, y_pred, a: int, b: int, path, n: int = 25, per_row: int = 5,
                  title: str | None = None) -> Path:
    """The seed's four grids for two classes: rows actual a / b, columns predicted a / b."""
    X, y_true, y_pred = np.asarray(X), np.asarray(y_true), np.asarray(y_pred)
    fig, axes = plt.subplots(2, 2, figsize=(8.5, 9))
    for row, actual in enumerate((a, b)):
        for col, predicted in enumerate((a, b)):
            ax = axes[row, col]
            chosen = X[(y_true == actual) & (y_pred == predicted)]
            ok = actual == predicted
            # Blank cells fill a short panel so that all four have the same size.
            cells = np.zeros((n, 784))
            cells[:min(n, len(chosen))] = chosen[:n].reshape(-1, 784)
            ax.imshow(tile(cells, per_row), cmap="binary", vmin=0, vmax=255, interpolation="nearest")
            if not len(chosen):
                ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:green" if ok else "tab:red")
                spine.set_linewidth(3)
            ax.set_title(f"{'correct' if ok else 'error'}: {len(chosen):,} image(s)", fontsize=10,
                         color="tab:green" if ok else "tab:red")
            if row == 1:
                ax.set_xlabel(f"predicted {predicted}", fontsize=12)
            if col == 0:
                ax.set_ylabel(f"actual {actual}", fontsize=12)
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(edgecolor="tab:green", facecolor="none", linewidth=3, label="correctly classified"),
                        Patch(edgecolor="tab:red", facecolor="none", linewidth=3, label="misclassified")],
               loc="lower center", ncol=2, frameon=False)
    fig.suptitle(title or f"{a} or {b}: the first {n} images of each actual/predicted pair")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97), h_pad=2.5)
    return save_figure(fig, path)


def multilabel_confusion(Y_true, Y_pred, names, path, title: str = "Multilabel confusion matrices") -> Path:
    """One 2x2 confusion matrix per label, side by side."""
    from sklearn.metrics import ConfusionMatrixDisplay, multilabel_confusion_matrix

    matrices = multilabel_confusion_matrix(np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool))
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.6), squeeze=False)
    for ax, name, matrix in zip(axes[0], names, matrices):
        display = ConfusionMatrixDisplay(matrix, display_labels=["no", "yes"])
        display.plot(ax=ax, cmap="Blues", values_format="d", colorbar=True)
        ax.images[-1].colorbar.set_label("images")
        ax.set_title(f"label: {name}")
        ax.set_xlabel("Predicted")
        ax.set_ylabel("Actual")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def search_results(results: Sequence[dict], path, test_accuracy: float | None = None, title: str = "Search results",
                   limit: int = 30) -> Path:
    """Mean cross-validated accuracy of each candidate with its spread across folds: against the parameter
    when only one numeric parameter varies (a randomized search over C), else as bars, best first."""
    varying = _varying_numeric(results)
    if varying is not None:
        return _search_curve(results, varying, path, test_accuracy, title)
    rows = list(results)[:limit]
    labels = [" ".join(f"{k}={_short(v)}" for k, v in row["params"].items()) or "defaults" for row in rows]
    means = np.array([row["mean_cv_accuracy"] for row in rows])
    stds = np.array([row["std_cv_accuracy"] for row in rows])
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.38 * len(rows)))
    y = np.arange(len(rows))[::-1]
    colors = ["tab:orange" if row["rank"] == 1 else "tab:blue" for row in rows]
    ax.barh(y, means, xerr=stds, color=colors, alpha=0.85, capsize=3, label="mean CV accuracy ± std over folds")
    if test_accuracy is not None:
        ax.plot([test_accuracy], [y[0]], "kD", label=f"test accuracy of the refit best: {test_accuracy:.4f}")
    lo = max(0.0, float((means - stds).min()) - 0.02)
    hi = min(1.0, float(max((means + stds).max(), test_accuracy or 0)) + 0.01)
    ax.set_xlim(lo, hi)
    ax.set_yticks(y, labels, fontsize=8)
    for yi, m in zip(y, means):
        ax.text(lo + 0.002 * (hi - lo) * 5, yi, f"{m:.4f}", va="center", fontsize=8, color="white")
    ax.set_xlabel("Accuracy")
    ax.set_ylabel("Candidate (best at the top, orange)")
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.4)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14 - 0.4 / len(rows)), ncol=2, fontsize=8, frameon=False)
    return save_figure(fig, path)


def _varying_numeric(results: Sequence[dict]) -> str | None:
    """The one parameter that takes several numeric values while all others stay fixed, if there is one."""
    if len(results) < 3:
        return None
    keys = set().union(*(row["params"] for row in results))
    varying = [k for k in keys if len({repr(row["params"].get(k)) for row in results}) > 1]
    if len(varying) != 1:
        return None
    values = [row["params"].get(varying[0]) for row in results]
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return varying[0] if ok else None


def _search_curve(results, key, path, test_accuracy, title) -> Path:
    rows = sorted(results, key=lambda row: row["params"][key])
    x = np.array([row["params"][key] for row in rows], dtype=np.float64)
    means = np.array([row["mean_cv_accuracy"] for row in rows])
    stds = np.array([row["std_cv_accuracy"] for row in rows])
    best = next(row for row in results if row["rank"] == 1)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.errorbar(x, means, yerr=stds, fmt="o-", color="tab:blue", capsize=3, label="mean CV accuracy ± std over folds")
    ax.plot([best["params"][key]], [best["mean_cv_accuracy"]], "o", color="tab:orange", markersize=11,
            markeredgecolor="k", label=f"best: {key}={_short(best['params'][key])}, CV {best['mean_cv_accuracy']:.4f}")
    if test_accuracy is not None:
        ax.plot([best["params"][key]], [test_accuracy], "kD",
                label=f"test accuracy of the refit best: {test_accuracy:.4f}")
    if x.min() > 0 and x.max() / x.min() > 50:
        ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel("Accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def noisy_pairs(clean, noisy, path, labels: Sequence | None = None, n: int = 10,
                title: str = "Clean and noisy digits") -> Path:
    """Two rows per block of ``n``: the clean digits and the same digits with noise (shown clipped to 0..255)."""
    n = min(n, len(clean))
    clean = np.asarray(clean[:n], dtype=np.float64).reshape(-1, 28, 28)
    noisy = np.clip(np.asarray(noisy[:n], dtype=np.float64), 0, 255).reshape(-1, 28, 28)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n + 1, 3.0), squeeze=False)
    for col in range(n):
        for row, images in enumerate((clean, noisy)):
            ax = axes[row, col]
            ax.imshow(images[col], cmap="binary", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0 and labels is not None:
                ax.set_title(str(labels[col]), fontsize=9)
        axes[0, 0].set_ylabel("clean", fontsize=10)
        axes[1, 0].set_ylabel("noisy", fontsize=10)
    fig.suptitle(title)
    return save_figure(fig, path)
