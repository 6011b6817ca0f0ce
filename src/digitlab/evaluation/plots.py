"""Plots for notebooks and run folders, in the style of scikit-learn's Display objects.

Every function draws on the ``ax`` it is given (or on a new pyplot figure, shown inline in Jupyter, when ``ax``
is None) and returns the figure; none saves, closes or shows it, and importing this module neither imports pyplot
nor switches the backend. :func:`save_figure` is the one function that writes a file.

Examples
--------
>>> from digitlab.evaluation import plots
>>> fig = plots.digit_gallery(data.X_test[:50], data.y_test[:50], model.predict(data.X_test[:50]))
>>> plots.save_figure(fig, "run/digits.png")
"""

from ._charts import accuracy_vs_time, leaderboard_chart, search_results
from ._common import save_figure, tile
from ._curves import precision_recall_vs_threshold, precision_vs_recall, roc_curves, training_history
from ._galleries import denoise_grid, digit_gallery, error_gallery, misclassified_gallery, noisy_pairs
from ._matrices import confusion, error_matrix, multilabel_confusion

__all__ = [
    "save_figure", "tile",
    "digit_gallery", "misclassified_gallery", "denoise_grid", "noisy_pairs", "error_gallery",
    "precision_recall_vs_threshold", "precision_vs_recall", "roc_curves", "training_history",
    "confusion", "error_matrix", "multilabel_confusion",
    "search_results", "leaderboard_chart", "accuracy_vs_time",
]
