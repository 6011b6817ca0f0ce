"""What every plot family shares: lazy pyplot, new axes, saving, and digits tiled into one image.

Nothing here imports matplotlib at import time: a notebook keeps its backend, and ``import digitlab`` stays light.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..fileio import atomic_path
from ..shapes import PIXEL_MAX, SIDE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INCH_PER_PX = 0.03  # a 28-pixel digit drawn 0.84 inch wide: ten to a row fit a notebook cell
LINE_PX = 6  # image pixels one line of 8-point label text needs at INCH_PER_PX
LABEL_SIZE = 8  # points, for the text beside digits
RIGHT, WRONG = "tab:green", "tab:red"  # colours of correct and wrong predictions in every gallery


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax`` itself, or the Axes of a new pyplot figure (shown inline in Jupyter) of ``figsize`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def new_axes_row(ax, count: int, figsize: tuple[float, float], what: str, **kwargs) -> list[Axes]:
    """``count`` Axes side by side: those given (one Axes, or a sequence of them) or a new figure's."""
    if ax is None:
        import matplotlib.pyplot as plt

        return list(plt.subplots(1, count, figsize=figsize, layout="constrained", squeeze=False, **kwargs)[1][0])
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != count:
        raise ValueError(f"{what} draws {count} panel(s); ax holds {len(axes)} Axes.")
    return axes


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` to a PNG atomically, then close it if pyplot manages it; the only plot function that writes."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.figure.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")  # .figure: the root of a SubFigure
    if "matplotlib.pyplot" in sys.modules:  # a figure made without pyplot needs no closing
        sys.modules["matplotlib.pyplot"].close(fig.figure)
    return path


def as_images(images) -> np.ndarray:
    """(n, 784) or (n, 28, 28) pixels as float (n, 28, 28), clipped to 0..255 (unclipped noise shows saturated)."""
    return np.clip(np.asarray(images, dtype=np.float64).reshape(-1, SIDE, SIDE), 0, PIXEL_MAX)


def tile(images, per_row: int = 10, pad: int = 1) -> np.ndarray:
    """Arrange (n, 784) or (n, 28, 28) images in a grid image, with a thin gap between digits."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, SIDE, SIDE)
    grid = Grid(len(images), per_row, gap=(pad, pad), top=pad, left=pad, bottom=pad, right=pad)
    return grid.paint(images)


@dataclass(frozen=True)
class Grid:
    """Where digits lie when tiled into one image: ``per_row`` cells of 28x28 per row, ``gap`` (x, y) pixels
    between cells, ``band`` pixels above each row for its labels, and margins for headers around it all."""

    n: int
    per_row: int
    gap: tuple[int, int] = (2, 2)
    band: int = 0
    top: int = 0
    left: int = 0
    bottom: int = 0
    right: int = 0

    @property
    def columns(self) -> int:
        return max(1, min(self.per_row, self.n))

    @property
    def rows(self) -> int:
        return max(1, -(-self.n // self.columns))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the whole image in pixels."""
        height = self.top + self.rows * (self.band + SIDE) + (self.rows - 1) * self.gap[1] + self.bottom
        return height, self.left + self.columns * (SIDE + self.gap[0]) - self.gap[0] + self.right

    def origin(self, i: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of cell ``i``, in the image's data coordinates."""
        r, c = divmod(i, self.columns)
        return self.left + c * (SIDE + self.gap[0]), self.top + r * (self.band + SIDE + self.gap[1]) + self.band

    def paint(self, images, canvas: np.ndarray | None = None, at: tuple[int, int] = (0, 0)) -> np.ndarray:
        """The images in their cells on a blank (white) canvas, or pasted into ``canvas`` offset by ``at``."""
        if canvas is None:
            canvas = np.zeros(self.shape)
        for i, img in enumerate(np.asarray(images).reshape(-1, SIDE, SIDE)):
            x, y = self.origin(i)
            canvas[at[1] + y: at[1] + y + SIDE, at[0] + x: at[0] + x + SIDE] = img
        return canvas

    def figsize(self, min_width: float = 5.0, extra_height: float = 0.5) -> tuple[float, float]:
        """Inches that draw a pixel INCH_PER_PX wide, with room for a title."""
        height, width = self.shape
        return max(min_width, width * INCH_PER_PX), height * INCH_PER_PX + extra_height


def show_canvas(ax: Axes, canvas: np.ndarray) -> None:
    """Draw a tiled image black on white, one data unit per pixel, y downwards, without axes."""
    height, width = canvas.shape
    ax.imshow(canvas, cmap="binary", vmin=0, vmax=PIXEL_MAX, interpolation="nearest", extent=(0, width, height, 0))
    ax.set_axis_off()


def label_cells(ax: Axes, grid: Grid, texts: Sequence[str], colors: Sequence[str] | None = None,
                at: tuple[int, int] = (0, 0), size: float = LABEL_SIZE) -> None:
    """Write ``texts[i]`` centred just above cell ``i`` (in its band), last lines on one baseline."""
    for i, text in enumerate(texts):
        x, y = grid.origin(i)
        ax.text(at[0] + x + SIDE / 2, at[1] + y - 1.5, text, ha="center", va="baseline", fontsize=size,
                color=colors[i] if colors is not None else "black", linespacing=1.0)


def legend_below(ax: Axes, handles=None, gap: float = 40, **kwargs) -> None:
    """A frameless legend centred under the Axes, ``gap`` points below it: clear of the x label, never over data."""
    from matplotlib.transforms import offset_copy

    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-gap, units="points")
    extra = {"handles": handles} if handles is not None else {}
    ax.legend(**extra, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor, frameon=False,
              **{"fontsize": 9, **kwargs})


def short(value) -> str:
    """A parameter value as a short text: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
