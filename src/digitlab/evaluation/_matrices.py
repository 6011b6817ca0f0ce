"""Matrices: the confusion matrix, its row-normalised errors, and one 2x2 matrix per label of a multilabel task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._common import new_axes, new_axes_row

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def confusion(matrix, labels: Sequence, title: str | None = None, xlabel: str = "Predicted class",
              ylabel: str = "Actual class", values_format: str | None = None, colorbar_label: str = "images",
              ax: Axes | None = None) -> Figure:
    """A confusion-style matrix with its values written in the cells and a labelled colour bar."""
    matrix = np.asarray(matrix)
    size = max(4.5, 0.6 * len(labels) + 2)
    ax = new_axes(ax, (size + 1, size))
    fmt = values_format or ("d" if np.issubdtype(matrix.dtype, np.integer) else ".2f")
    _draw_matrix(ax, matrix, [str(label) for label in labels], fmt, colorbar_label,
                 fontsize=8 if len(labels) > 6 else 11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Confusion matrix")
    return ax.figure


def _draw_matrix(ax: Axes, matrix, labels: list[str], fmt: str, colorbar_label: str, fontsize: float = 11) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    display = ConfusionMatrixDisplay(matrix, display_labels=labels)
    display.plot(ax=ax, cmap="Blues", values_format=fmt, colorbar=True, text_kw={"fontsize": fontsize})
    display.im_.colorbar.set_label(colorbar_label)


def error_matrix(rates, labels: Sequence, title: str | None = None, xlabel: str = "Predicted class",
                 ylabel: str = "Actual class", ax: Axes | None = None) -> Figure:
    """The row-normalised confusion matrix with its diagonal zeroed, in percent: where each class's errors go."""
    return confusion(np.asarray(rates, dtype=np.float64) * 100, labels,
                     title=title or "Errors: share of each actual class predicted as another",
                     xlabel=xlabel, ylabel=ylabel, values_format=".1f",
                     colorbar_label="% of the actual class's images", ax=ax)


def multilabel_confusion(Y_true, Y_pred, names: Sequence[str], title: str | None = None, ax=None) -> Figure:
    """One 2x2 confusion matrix per label, side by side. ``ax``: None (a new figure) or one Axes per label;
    the title goes above them all, as the figure's suptitle."""
    from sklearn.metrics import multilabel_confusion_matrix

    matrices = multilabel_confusion_matrix(np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool))
    axes = new_axes_row(ax, len(names), (4.8 * len(names) + 0.4, 4.2), "multilabel_confusion")
    for one, name, matrix in zip(axes, names, matrices):
        _draw_matrix(one, matrix, ["no", "yes"], "d", "images")
        one.set_title(f"label: {name}")
        one.set_xlabel("Predicted")
        one.set_ylabel("Actual")
    fig = axes[0].figure
    fig.suptitle(title or "Multilabel confusion matrices")
    return fig
