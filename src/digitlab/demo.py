"""The demo: a lineup of models on the best data found, then the leaderboard and its plots.

``digitlab demo`` runs this on full MNIST when it can be found or downloaded, else on the shipped
``mnist-mini``; the lineup is sized to finish in a few minutes on a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .data.datasets import Dataset
from .ranking import leaderboard
from .runs import new_run


@dataclass(frozen=True)
class Step:
    task: str  # "train" or "denoise"
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    noise: str = "uniform:100"
    n_train: int | None = None  # None: the whole train split
    n_test: int | None = None


LINEUP: tuple[Step, ...] = (
    Step("train", "never"),  # the baseline every model must beat
    Step("train", "sgd", n_train=10_000),  # the notebook's linear model; SGD on all 60,000 takes minutes
    Step("train", "random-forest"),
    Step("train", "knn", {"n_neighbors": 4, "weights": "distance"}),  # the notebook's exercise, 97.14 %
    Step("train", "knn-fast"),  # deskewed, projected k-NN: more accurate and 10x faster
    Step("train", "cnn", {"preset": "fast"}),  # one epoch of full MNIST in about 5 s; ten on mnist-mini, about 6 s
    Step("denoise", "knn-denoise", n_test=1000),  # the notebook's denoiser on randint(0, 100) noise
    Step("denoise", "knn-fast-denoise", n_test=1000),
)


def run_demo(data: Dataset, runs_root, seed: int = 42,
             report: Callable[[str, Any], None] = lambda step, result: None,
             lineup: tuple[Step, ...] | None = None) -> tuple[list[dict[str, Any]], Path, Path]:
    """Run every step of the lineup into ``runs_root``, then draw the leaderboard chart and the test digits as
    the best classifier read them, and write the HTML report of the lineup's runs; returns the leaderboard rows,
    the folder holding the two PNGs and the report's index.html (in that folder's report/)."""
    from .evaluation import plots
    from .htmlreport import report as write_report
    from .tasks.denoise import denoise
    from .tasks.train import train

    best, made = None, []
    for step in LINEUP if lineup is None else lineup:
        if step.task == "train":
            result = train(step.model, data, params=dict(step.params), n_train=step.n_train, n_test=step.n_test,
                           seed=seed, runs=runs_root)
            if best is None or result.metrics["test_accuracy"] > best.metrics["test_accuracy"]:
                best = result
        else:
            result = denoise(step.model, data, params=dict(step.params), noise=step.noise, n_train=step.n_train,
                             n_test=step.n_test, seed=seed, runs=runs_root)
        report(step.model, result)
        made.append(result.run)
    rows = leaderboard(runs_root)
    summary = new_run("demo", data.name, runs_root).path
    plots.save_figure(plots.leaderboard_chart(rows, title=f"digitlab demo on {data.name}"),
                      summary / "leaderboard.png")
    if best is not None:
        shown = slice(0, 50)
        plots.save_figure(plots.digit_gallery(best.X_test[shown], labels=best.y_test[shown],
                                              predictions=best.predictions[shown],
                                              title=f"The first 50 test digits of {data.name} as {best.metrics['model']} "
                                                    f"read them (errors in red)"), summary / "test-digits.png")
    return rows, summary, write_report(runs_root, names=made, output=summary / "report").index
