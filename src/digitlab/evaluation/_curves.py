"""Curves: precision and recall against the threshold, precision-recall and ROC curves, a net's training."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._common import legend_below, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _score_limits(scores) -> tuple[float, float]:
    """An x range that shows the bulk of the scores, not a few extreme ones."""
    lo, hi = np.percentile(np.asarray(scores, dtype=np.float64), [0.5, 99.5])
    pad = 0.05 * (hi - lo or 1.0)
    return float(lo - pad), float(hi + pad)


def precision_recall_vs_threshold(y_true, scores, threshold: float | None = None, target: float | None = None,
                                  score_label: str = "decision threshold", title: str | None = None,
                                  ax: Axes | None = None) -> Figure:
    """Precision (dashed) and recall (solid) as the threshold moves, with the chosen threshold marked and the
    target precision it was chosen for."""
    from sklearn.metrics import precision_recall_curve

    precisions, recalls, thresholds = precision_recall_curve(np.asarray(y_true, dtype=bool), scores)
    ax = new_axes(ax, (8, 4.8))
    ax.plot(thresholds, precisions[:-1], "b--", linewidth=2, label="precision")
    ax.plot(thresholds, recalls[:-1], "g-", linewidth=2, label="recall")
    lo, hi = _score_limits(scores)
    if threshold is not None:
        i = min(int(np.searchsorted(thresholds, threshold)), len(thresholds) - 1)
        p, r = precisions[i], recalls[i]
        lo, hi = min(lo, threshold), max(hi, threshold)
        ax.axvline(threshold, color="r", linestyle=":", label=f"threshold {threshold:.4g}")
        ax.plot([threshold, threshold], [p, r], "ro", label=f"precision {p:.3f}, recall {r:.3f}")
        if target is not None:
            ax.axhline(target, color="grey", linestyle=":", linewidth=1, label=f"target precision {target:g}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(score_label[:1].upper() + score_label[1:])
    ax.set_ylabel("Precision / recall")
    ax.set_title(title or "Precision and recall against the decision threshold")
    ax.grid(True, alpha=0.4)
    legend_below(ax, ncol=3)
    return ax.figure


def precision_vs_recall(curves: Sequence[dict], title: str | None = None, ax: Axes | None = None) -> Figure:
    """One precision-recall curve per model: dicts with ``name``, ``y_true``, ``scores`` and optionally
    ``point`` = (recall, precision) at the chosen threshold, marked with its coordinates."""
    from sklearn.metrics import PrecisionRecallDisplay

    ax = new_axes(ax, (7, 7))
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
    return _finish_rates(ax, (0, 1), (0, 1.02), "Recall", "Precision", title or "Precision against recall")


def roc_curves(curves: Sequence[dict], title: str | None = None, ax: Axes | None = None) -> Figure:
    """ROC curves of several models on one chart (dicts with ``name``, ``y_true``, ``scores`` and optionally
    ``threshold``, whose point is marked), with a zoom on the top-left corner where good models differ."""
    from sklearn.metrics import RocCurveDisplay, roc_curve

    ax = new_axes(ax, (7, 7.5))
    # The zoom sits in the bottom-right corner, below the chance diagonal, where no useful model's curve runs.
    zoom = ax.inset_axes([0.55, 0.07, 0.42, 0.36])
    styles, marked = ["-", "--", "-.", ":"], []
    for n, curve in enumerate(curves):
        y_true = np.asarray(curve["y_true"], dtype=bool)
        display = RocCurveDisplay.from_predictions(
            y_true, curve["scores"], ax=ax, name=curve["name"], plot_chance_level=(n == len(curves) - 1),
            curve_kwargs={"linewidth": 2, "linestyle": styles[n % len(styles)]})
        display.line_.set_label(f"{curve['name']} (AUC = {display.roc_auc:.4f})")
        color = display.line_.get_color()
        zoom.plot(display.fpr, display.tpr, linewidth=2, linestyle=styles[n % len(styles)], color=color)
        if curve.get("threshold") is not None:
            fpr, tpr, thresholds = roc_curve(y_true, curve["scores"], drop_intermediate=False)
            i = int(np.flatnonzero(thresholds >= curve["threshold"])[-1])  # the point where score >= threshold
            marked.append(tpr[i])
            for axes in (ax, zoom):
                axes.plot([fpr[i]], [tpr[i]], "o", color=color, markeredgecolor="k", zorder=3,
                          label=f"{curve['name']} at the threshold: FPR {fpr[i]:.4f}, TPR {tpr[i]:.3f}")
    zoom.set_xlim(-0.003, 0.1)  # a little left of 0, so that points on the axis show whole
    zoom.set_ylim(min([0.7, *(t - 0.03 for t in marked if t >= 0.5)]), 1.0)  # lower points: on the main chart
    zoom.set_title("zoom: top-left corner", fontsize=8)
    zoom.tick_params(labelsize=7)
    zoom.grid(True, alpha=0.4)
    return _finish_rates(ax, (-0.01, 1), (0, 1.01), "False positive rate (1 - specificity)",
                         "True positive rate (recall)", title or "ROC curves")


def _finish_rates(ax: Axes, xlim, ylim, xlabel: str, ylabel: str, title: str) -> Figure:
    """Limits, labels, title, grid and the legend below, for a chart of two rates."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    legend_below(ax)
    return ax.figure


def training_history(history: Sequence[dict], metric_name: str = "validation accuracy", title: str | None = None,
                     ax: Axes | None = None) -> Figure:
    """A net's ``history_`` (one dict per epoch: ``epoch``, ``loss``, optional ``val_loss``, ``val_score``):
    training and validation loss against the epoch, the validation score on a twin axis at the right, and the
    best epoch (highest validation score, the one the net keeps) marked. ``ax`` gets the twin axis added."""
    epochs = np.array([h["epoch"] for h in history])
    ax = new_axes(ax, (8, 4.8))
    handles = ax.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", markersize=4,
                      label="training loss")
    validated = [h for h in history if h.get("val_loss") is not None]
    if validated:
        handles += ax.plot([h["epoch"] for h in validated], [h["val_loss"] for h in validated], "s--",
                           color="tab:orange", markersize=4, label="validation loss")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss")
    ax.grid(True, alpha=0.4)
    scored = [h for h in history if h.get("val_score") is not None]
    if scored:
        twin = ax.twinx()
        handles += twin.plot([h["epoch"] for h in scored], [h["val_score"] for h in scored], "^-",
                             color="tab:green", markersize=4, label=metric_name)
        twin.set_ylabel(metric_name[:1].upper() + metric_name[1:], color="tab:green")
        twin.tick_params(axis="y", colors="tab:green")
        best = max(scored, key=lambda h: h["val_score"])  # the first of equal scores, as the training loop keeps
        handles.append(ax.axvline(best["epoch"], color="grey", linestyle=":", linewidth=1.5,
                                  label=f"best epoch {best['epoch']}: {metric_name} {best['val_score']:.4f}"))
        twin.plot([best["epoch"]], [best["val_score"]], "*", color="tab:green", markersize=14,
                  markeredgecolor="k")
    if len(epochs) and epochs.max() - epochs.min() <= 30:
        ax.set_xticks(np.arange(epochs.min(), epochs.max() + 1, max(1, len(epochs) // 15)))
    legend_below(ax, handles, ncol=2)
    ax.set_title(title or "Training history")
    return ax.figure
