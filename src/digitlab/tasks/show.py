"""Look at the data: a gallery of digits with their labels, and noisy/clean pairs for a noise model.

    >>> import digitlab
    >>> digitlab.show("mnist-mini", n=50, noise="uniform:100").plot_noisy_pairs()   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.noise import parse_noise
from ..errors import ParameterError
from .common import first
from .data import DataLike, dataset_for
from .result import Recorder, TaskResult

SPLITS = ("train", "test")


@dataclass(repr=False, eq=False)
class ShowResult(TaskResult):
    """The digits shown, their class names and (with a noise model) their noisy copies."""

    images: np.ndarray = field(default=None)
    names: list[str] = field(default_factory=list)
    noisy: np.ndarray | None = None
    per_row: int = 10

    kind = "show"
    headline_keys = ("n", "split", "noise")

    def plot_digits(self, ax=None):
        from ..evaluation import plots

        m = self.metrics
        return plots.digit_gallery(self.images, labels=self.names, per_row=self.per_row, ax=ax,
                                   title=f"{m['dataset']}: the first {m['n']} {m['split']} images with their labels")

    def plot_noisy_pairs(self, ax=None):
        from ..evaluation import plots

        return plots.noisy_pairs(self.images, self.noisy, labels=self.names, n=min(len(self.images), self.per_row),
                                 ax=ax, title=f"{self.metrics['dataset']}: clean (top) and with "
                                              f"{self.metrics['noise']} noise (bottom)")

    def run_plots(self):
        made = {"digits.png": self.plot_digits}
        if self.noisy is not None:
            made["noisy_pairs.png"] = self.plot_noisy_pairs
        return made


def show(data: DataLike = None, *, n: int = 100, split: str = "train", noise: str | None = None, per_row: int = 10,
         seed: int = 42, runs: str | Path | None = None, data_dir=None) -> ShowResult:
    """The first ``n`` images of a split with their class names; with ``noise`` also their noisy copies."""
    for parameter, value in (("n", n), ("per_row", per_row)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(parameter, f"must be at least 1, got {value}.")
    if split not in SPLITS:
        raise ParameterError("split", f"{split!r} is not one of: {', '.join(SPLITS)}.")
    noise_model = parse_noise(noise) if noise else None
    dataset = dataset_for(data, data_dir=data_dir, seed=seed)
    X, y = first(*((dataset.X_train, dataset.y_train) if split == "train" else (dataset.X_test, dataset.y_test)),
                 n, "n")
    names = [dataset.classes[int(v)] if int(v) < len(dataset.classes) else str(int(v)) for v in y]
    config = {"dataset": dataset.name, "data_source": dataset.source, "split": split, "n": n, "noise": noise,
              "seed": seed}
    with Recorder(runs, "show", f"{dataset.name}-{split}", config) as recorder:
        counts = {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))}
        figures = {"kind": "show", "dataset": dataset.name, "split": split, "n": int(len(X)), "noise": noise,
                   "label_counts": counts}
        noisy = noise_model.apply(X, seed) if noise_model is not None else None
        return recorder.finish(ShowResult(figures, images=X, names=names, noisy=noisy, per_row=per_row))
