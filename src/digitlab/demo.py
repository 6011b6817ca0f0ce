"""The demo: a lineup of models on the best data found, then the leaderboard and its plots.

``digitlab demo`` runs this on full MNIST when it can be found or downloaded, else on the shipped
``mnist-mini``; the lineup is sized to finish in a few minutes on a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .data.datasets import Dataset
from .evaluate.plots import digit_gallery, save_figure
from .runs import Run, leaderboard, new_run
from .tasks.denoise import DenoiseConfig, denoise
from .tasks.train import TrainConfig, train


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
    Step("train", "sgd", n_train=10_000),  # the seed's linear model; SGD on all 60,000 takes minutes
    Step("train", "random-forest"),
    Step("train", "knn", {"n_neighbors": 4, "weights": "distance"}),  # the seed's exercise, 97.14 %
    Step("train", "knn-fast"),  # deskewed, projected k-NN: more accurate and 10x faster
    Step("train", "cnn", {"preset": "fast"}),  # a CNN trained in about 30 s
    Step("denoise", "knn-denoise", n_test=1000),  # the seed's denoiser on randint(0, 100) noise
    Step("denoise", "knn-fast-denoise", n_test=1000),
)


def leaderboard_chart(rows: list[dict[str, Any]], path, title: str):
    """Horizontal bars: test accuracy per classifier run and PSNR per denoiser run, best on top."""
    import matplotlib.pyplot as plt

    classified = [r for r in rows if r.get("test_accuracy") is not None][::-1]
    denoised = sorted((r for r in rows if r.get("psnr") is not None), key=lambda r: r["psnr"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * max(len(classified), len(denoised), 2) + 1.6),
                             gridspec_kw={"width_ratios": [3, 2]})
    for ax, runs, key, label, fmt in [
        (axes[0], classified, "test_accuracy", "test accuracy", "{:.4f}"),
        (axes[1], denoised, "psnr", "PSNR (dB), higher is cleaner", "{:.1f}"),
    ]:
        names = [f"{r['model']} {' '.join(f'{k}={v}' for k, v in (r.get('set') or {}).items())}".strip()
                 for r in runs]
        values = [r[key] for r in runs]
        bars = ax.barh(range(len(runs)), values, color="tab:blue" if key == "test_accuracy" else "tab:green",
                       label=label)
        ax.set_yticks(range(len(runs)), names, fontsize=8)
        ax.bar_label(bars, [fmt.format(v) for v in values], fontsize=8, padding=2)
        ax.set_xlabel(label)
        ax.set_title("classifiers" if key == "test_accuracy" else "denoisers")
        ax.legend(loc="lower right", fontsize=8)
        if values:
            low = min(values)
            ax.set_xlim(max(0.0, low - (0.05 if key == "test_accuracy" else 3)) if low > 0.5 else 0,
                        max(values) * (1.02 if key == "test_accuracy" else 1.15))
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def run_demo(data: Dataset, runs_root, seed: int = 42,
             report: Callable[[str, dict[str, Any]], None] = lambda step, result: None,
             lineup: tuple[Step, ...] = LINEUP) -> tuple[list[dict[str, Any]], Run]:
    """Run every step of the lineup, then draw the leaderboard chart and a digit gallery."""
    for step in lineup:
        if step.task == "train":
            config = TrainConfig(step.model, dict(step.params), data.name, n_train=step.n_train,
                                 n_test=step.n_test, seed=seed)
            result, _ = train(config, data, runs_root)
        else:
            config = DenoiseConfig(step.model, dict(step.params), step.noise, data.name, n_train=step.n_train,
                                   n_test=step.n_test, seed=seed)
            result, _ = denoise(config, data, runs_root)
        report(step.model, result)
    rows = leaderboard(runs_root)
    summary = new_run("demo", data.name, runs_root)
    leaderboard_chart(rows, summary.file("leaderboard.png"), title=f"digitlab demo on {data.name}")
    digit_gallery(data.X_test[:50], summary.file("test-digits.png"), labels=data.y_test[:50],
                  title=f"The first 50 test digits of {data.name}")
    return rows, summary
