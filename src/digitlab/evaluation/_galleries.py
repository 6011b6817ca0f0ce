"""Digits shown as digits: galleries with labels or predictions, misreadings, denoising and noise side by side.

Each gallery is one tiled image on one Axes, with its labels written in the image's pixel coordinates, so it
scales and sits in a notebook like any other plot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..shapes import SIDE
from ._common import (LABEL_SIZE, LINE_PX, RIGHT, WRONG, Grid, as_images, label_cells, new_axes, show_canvas)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def digit_gallery(images, labels: Sequence | None = None, predictions: Sequence | None = None, per_row: int = 10,
                  title: str | None = None, ax: Axes | None = None) -> Figure:
    """A grid of digits, each under its label; with ``predictions``, under its prediction, wrong ones in red as
    "7 (true 2)" when the labels are known.

    Examples
    --------
    >>> fig = digit_gallery(data.X_test[:50], data.y_test[:50], model.predict(data.X_test[:50]))
    """
    images = as_images(images)
    texts, colors = _gallery_texts(len(images), labels, predictions)
    lines = max((text.count("\n") + 1 for text in texts), default=0)
    grid = Grid(len(images), per_row, band=lines * LINE_PX + (1 if lines else 0))
    ax = new_axes(ax, grid.figsize())
    show_canvas(ax, grid.paint(images))
    label_cells(ax, grid, texts, colors)
    if title is None:
        wrong = colors.count(WRONG)
        title = (f"Predictions: {wrong} of {len(images)} wrong, in red as 'predicted (true label)'"
                 if predictions is not None and labels is not None else "Digits")
    ax.set_title(title)
    return ax.figure


def _gallery_texts(n: int, labels, predictions) -> tuple[list[str], list[str]]:
    """The text above each digit and its colour: the label, or the prediction with the truth when it is wrong."""
    if predictions is None:
        return ([] if labels is None else [str(label) for label in labels[:n]]), ["black"] * n
    if labels is None:
        return [str(p) for p in predictions[:n]], ["black"] * n
    texts, colors = [], []
    for p, t in zip(predictions[:n], labels[:n]):
        ok = p == t
        wrong = f"{p} (true {t})"
        texts.append(str(p) if ok else wrong if len(wrong) <= 11 else f"{p}\n(true {t})")
        colors.append("black" if ok else WRONG)
    return texts, colors


def misclassified_gallery(images, y_true, y_pred, confidence=None, n: int = 30, per_row: int = 10,
                          title: str | None = None, ax: Axes | None = None) -> Figure:
    """The first ``n`` misclassified digits, each with its true label and the prediction, and the probability
    the model gave its prediction when ``confidence`` holds it (one value per image, e.g.
    ``predict_proba(X).max(axis=1)``); a line saying so when nothing is misclassified."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    chosen = wrong[:n]
    if not len(chosen):
        ax = new_axes(ax, (5.0, 1.2))
        ax.text(0.5, 0.5, f"no errors: all {len(y_true):,} predictions are right", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title or "Misclassified digits")
        return ax.figure
    grid = Grid(len(chosen), per_row, band=2 * LINE_PX + 1)
    ax = new_axes(ax, grid.figsize())
    show_canvas(ax, grid.paint(as_images(images)[chosen]))
    label_cells(ax, grid, [f"true {t}" for t in y_true[chosen]])
    lift = (0, -LINE_PX)  # the prediction on the line above the truth
    if confidence is None:
        label_cells(ax, grid, [f"pred {p}" for p in y_pred[chosen]], [WRONG] * len(chosen), at=lift)
    else:
        conf = np.asarray(confidence, dtype=np.float64)[chosen]
        label_cells(ax, grid, [f"pred {p} ({c:.0%})" for p, c in zip(y_pred[chosen], conf)],
                    [WRONG] * len(chosen), at=lift)
    share = f"{len(wrong):,} of {len(y_true):,}"
    ax.set_title(title or (f"The first {len(chosen)} misclassified digits ({share}): the prediction"
                           + (" (its probability)" if confidence is not None else "") + " over the true label"))
    return ax.figure


def denoise_grid(noisy, cleaned, clean, n: int = 8, scores: dict | None = None, title: str | None = None,
                 ax: Axes | None = None) -> Figure:
    """Rows of noisy input / cleaned / truth / |difference| for the first ``n`` images; ``scores`` (from
    ``metrics.denoise_scores``: psnr, noisy_psnr, rmse, noisy_rmse, ssim, any of them) head the columns."""
    n = min(n, len(clean))
    noisy, cleaned, clean = as_images(noisy[:n]), as_images(cleaned[:n]), as_images(clean[:n])
    columns = np.stack([noisy, cleaned, clean, np.abs(clean - cleaned)], axis=1)  # row-major: image by image
    scores = scores or {}
    headers = ["noisy input" + _score(scores, "noisy_psnr", "\nPSNR {:.1f} dB"),
               "cleaned" + _score(scores, "psnr", "\nPSNR {:.1f} dB") + _score(scores, "ssim", "\nSSIM {:.3f}"),
               "truth", "|difference|" + _score(scores, "rmse", "\nRMSE {:.1f}")]
    lines = max(header.count("\n") + 1 for header in headers)
    caption = ""
    if "rmse" in scores and "noisy_rmse" in scores:
        caption = f"RMSE on the 0..255 scale: {scores['noisy_rmse']:.1f} noisy, {scores['rmse']:.1f} cleaned"
    grid = Grid(4 * n, 4, gap=(6, 2), top=lines * LINE_PX + 2, bottom=LINE_PX + 2 if caption else 0)
    ax = new_axes(ax, grid.figsize(min_width=4.5))
    canvas = grid.paint(columns)
    show_canvas(ax, canvas)
    label_cells(ax, grid, headers, at=(0, -1))
    if caption:
        ax.text(canvas.shape[1] / 2, canvas.shape[0], caption, ha="center", va="bottom", fontsize=LABEL_SIZE - 1)
    ax.set_title(title or "Denoising")
    return ax.figure


def _score(scores: dict, key: str, fmt: str) -> str:
    return fmt.format(scores[key]) if scores.get(key) is not None else ""


def noisy_pairs(clean, noisy, labels: Sequence | None = None, n: int = 10, title: str | None = None,
                ax: Axes | None = None) -> Figure:
    """The first ``n`` digits clean (top row, under their labels) and with noise (bottom row, clipped to 0..255)."""
    n = min(n, len(clean))
    grid = Grid(2 * n, n, top=LINE_PX + 1 if labels is not None else 0, left=LINE_PX * 4)
    ax = new_axes(ax, grid.figsize(extra_height=0.6))
    show_canvas(ax, grid.paint(np.concatenate([as_images(clean[:n]), as_images(noisy[:n])])))
    if labels is not None:
        label_cells(ax, grid, [str(label) for label in labels[:n]])
    for row, name in enumerate(("clean", "noisy")):
        x, y = grid.origin(row * grid.columns)
        ax.text(x - 2, y + SIDE / 2, name, ha="right", va="center", fontsize=LABEL_SIZE + 1)
    ax.set_title(title or "Clean and noisy digits")
    return ax.figure


def error_gallery(X, y_true, y_pred, a, b, n: int = 25, per_row: int = 5, title: str | None = None,
                  ax: Axes | None = None) -> Figure:
    """The classification notebook's four grids for two classes: rows actual ``a`` / ``b``, columns predicted
    ``a`` / ``b``, up to ``n`` digits each; correct blocks framed green, errors red, each with its count."""
    from matplotlib.patches import Patch, Rectangle

    X, y_true, y_pred = as_images(X), np.asarray(y_true), np.asarray(y_pred)
    block = Grid(n, per_row, gap=(1, 1))
    height, width = block.shape
    left, top, head, gap = 3 * LINE_PX, 2 * LINE_PX, 2 * LINE_PX + 2, 14  # room for names and counts; a gap
    canvas = np.zeros((top + 2 * (head + height) + gap + 3, left + 2 * width + gap + 5))  # frames 2 px outside
    ax = new_axes(ax, (8.5, 9.0))
    for k, (actual, predicted) in enumerate([(a, a), (a, b), (b, a), (b, b)]):
        r, c = divmod(k, 2)
        x0, y0 = left + 2 + c * (width + gap), top + head + r * (height + head + gap)
        mask = (y_true == actual) & (y_pred == predicted)
        block.paint(X[mask][:n], canvas, at=(x0, y0))
        count = int(mask.sum())
        color, verdict = (RIGHT, "correct") if actual == predicted else (WRONG, "error")
        ax.add_patch(Rectangle((x0 - 1.5, y0 - 1.5), width + 3, height + 3, fill=False, edgecolor=color,
                               linewidth=3))
        ax.text(x0 + width / 2, y0 - 3, f"{verdict}: {count:,} image{'' if count == 1 else 's'}", ha="center",
                va="bottom", color=color, fontsize=10)
        if not count:
            ax.text(x0 + width / 2, y0 + height / 2, "none", ha="center", va="center", fontsize=10)
        if r == 0:
            ax.text(x0 + width / 2, top, f"predicted {predicted}", ha="center", va="bottom", fontsize=12)
        if c == 0:
            ax.text(left - 2, y0 + height / 2, f"actual {actual}", ha="right", va="center", fontsize=12,
                    rotation=90)
    show_canvas(ax, canvas)
    ax.legend(handles=[Patch(edgecolor=RIGHT, facecolor="none", linewidth=3, label="correctly classified"),
                       Patch(edgecolor=WRONG, facecolor="none", linewidth=3, label="misclassified")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)
    ax.set_title(title or f"{a} or {b}: the first {n} images of each actual/predicted pair")
    return ax.figure
