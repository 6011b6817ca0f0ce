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
