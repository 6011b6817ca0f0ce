"""Charts across runs and candidates: search results, the leaderboard, accuracy against training time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ._common import legend_below, new_axes, new_axes_row, short

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Classifiers within this much test accuracy of the best stay on the leaderboard's axis; lower ones (the
# never-this-digit baseline at about 0.11, a failed run) are cut. The seed's weakest real model, a linear SGD on
# raw pixels, reads 0.87-0.90 against 0.99+ for the best, so it stays.
COMPETITIVE = 0.25


def search_results(results: Sequence[dict], test_accuracy: float | None = None, title: str | None = None,
                   limit: int = 30, ax: Axes | None = None) -> Figure:
    """Mean cross-validated accuracy of each candidate with its spread across folds: against the parameter
    when only one numeric parameter varies (a randomized search over C), else as bars, best first."""
    varying = _varying_numeric(results)
    if varying is not None:
        return _search_curve(results, varying, test_accuracy, title or "Search results", ax)
    rows = list(results)[:limit]
    labels = [" ".join(f"{k}={short(v)}" for k, v in row["params"].items()) or "defaults" for row in rows]
    means = np.array([row["mean_cv_accuracy"] for row in rows])
    stds = np.array([row["std_cv_accuracy"] for row in rows])
    best = np.array([row["rank"] == 1 for row in rows])
    ax = new_axes(ax, (8, 1.8 + 0.38 * len(rows)))
    y = np.arange(len(rows))[::-1]
    handles = []
    for chosen, color, label in [(best, "tab:orange", "best candidate (rank 1): mean CV accuracy ± std over folds"),
                                 (~best, "tab:blue", "other candidates: mean CV accuracy ± std over folds")]:
        if chosen.any():
            handles.append(ax.barh(y[chosen], means[chosen], xerr=stds[chosen], color=color, alpha=0.85, capsize=3,
                                   label=label))
    if test_accuracy is not None:
        handles += ax.plot([test_accuracy], [y[0]], "kD", label=f"test accuracy of the refit best: {test_accuracy:.4f}")
    lo = max(0.0, float((means - stds).min()) - 0.02)
    hi = min(1.0, float(max((means + stds).max(), test_accuracy or 0)) + 0.01)
    ax.set_xlim(lo, hi)
    ax.set_yticks(y, labels, fontsize=8)
    for yi, m in zip(y, means):
        ax.text(lo + 0.01 * (hi - lo), yi, f"{m:.4f}", va="center", fontsize=8, color="white")
    ax.set_xlabel("Accuracy")
    ax.set_ylabel("Candidate (best at the top)")
    ax.set_title(title or "Search results")
    ax.grid(True, axis="x", alpha=0.4)
    legend_below(ax, handles, ncol=1, fontsize=8)
    return ax.figure


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


def _search_curve(results, key: str, test_accuracy, title: str, ax) -> Figure:
    rows = sorted(results, key=lambda row: row["params"][key])
    x = np.array([row["params"][key] for row in rows], dtype=np.float64)
    means = np.array([row["mean_cv_accuracy"] for row in rows])
    stds = np.array([row["std_cv_accuracy"] for row in rows])
    best = next(row for row in results if row["rank"] == 1)
    ax = new_axes(ax, (8, 5.2))
    ax.errorbar(x, means, yerr=stds, fmt="o-", color="tab:blue", capsize=3, label="mean CV accuracy ± std over folds")
    ax.plot([best["params"][key]], [best["mean_cv_accuracy"]], "o", color="tab:orange", markersize=11,
            markeredgecolor="k", label=f"best: {key}={short(best['params'][key])}, CV {best['mean_cv_accuracy']:.4f}")
    if test_accuracy is not None:
        ax.plot([best["params"][key]], [test_accuracy], "kD",
                label=f"test accuracy of the refit best: {test_accuracy:.4f}")
    if x.min() > 0 and x.max() / x.min() > 50:
        ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel("Accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.4)
    legend_below(ax, ncol=2, fontsize=8)
    return ax.figure


def run_name(row: dict[str, Any]) -> str:
    """A run's name on a chart: its ``label``, else the model with the parameters set on the command line."""
    if row.get("label"):
        return str(row["label"])
    params = " ".join(f"{k}={v}" for k, v in (row.get("set") or {}).items())
    return f"{row['model']} {params}".strip()


def leaderboard_chart(rows: Sequence[dict], title: str | None = None, ax=None) -> Figure:
    """Horizontal bars, best on top: test accuracy per classifier run, PSNR per denoiser run (leaderboard rows:
    ``model``, ``test_accuracy`` or ``psnr``, optional ``set`` or ``label``). ``ax``: None (a figure with a panel
    for each kind of run present) or a pair of Axes (classifiers, denoisers), titled together as the figure."""
    panels = [("test_accuracy", "classifiers", "tab:blue", "{:.4f}"), ("psnr", "denoisers", "tab:green", "{:.1f}")]
    runs = {key: sorted((r for r in rows if r.get(key) is not None), key=lambda r: r[key]) for key, *_ in panels}
    if ax is None:
        panels = [panel for panel in panels if runs[panel[0]]] or panels[:1]
    height = 0.42 * max(2, *(len(runs[key]) for key, *_ in panels)) + 1.6
    axes = new_axes_row(ax, len(panels), (5.5 * len(panels) + 1, height), "leaderboard_chart")
    for one, (key, name, color, fmt) in zip(axes, panels):
        values = np.array([r[key] for r in runs[key]], dtype=np.float64)
        one.set_title(name)
        if not len(values):
            one.text(0.5, 0.5, f"no {name[:-1]} runs", ha="center", va="center", transform=one.transAxes)
            one.set_axis_off()
            continue
        if key == "test_accuracy":
            lo, hi = _accuracy_axis(values)
            xlabel = "test accuracy" + (f" (axis from {lo:.3g}: lower runs cut, value written)"
                                        if (values < lo).any() else "")
        else:  # PSNR is already logarithmic (dB): start 3 dB below the weakest run
            lo, hi, xlabel = max(0.0, values.min() - 3.0), values.max() + 1.0, "PSNR (dB), higher is cleaner"
        _bars(one, [run_name(r) for r in runs[key]], values, lo, hi, color, fmt)
        one.set_xlabel(xlabel)
    title = title or "Leaderboard"
    if len(axes) == 1:  # one panel: one title, over its Axes
        axes[0].set_title(f"{title}: {axes[0].get_title()}")
    else:
        axes[0].figure.suptitle(title)
    return axes[0].figure


def _accuracy_axis(values: np.ndarray) -> tuple[float, float]:
    """An accuracy axis from just below the lowest competitive run, so that 0.95 and 0.98 differ visibly even
    with a 0.11 baseline in the list: bars of the same axis from 0 would flatten every good model together."""
    best = float(values.max())
    low = float(values[values >= best - COMPETITIVE].min())
    span = max(best - low, 0.005)
    return max(0.0, low - 0.2 * span), min(1.0, best + 0.02 * span)


def _bars(ax: Axes, names: list[str], values: np.ndarray, lo: float, hi: float, color: str, fmt: str) -> None:
    """Bars from the axis's left end ``lo``, their values written inside their right ends; runs below ``lo``
    get a short hatched stub with their value beside it."""
    y = np.arange(len(values))
    cut = values < lo
    stub = 0.03 * (hi - lo)
    ax.barh(y[~cut], values[~cut] - lo, left=lo, color=color)
    if cut.any():
        ax.barh(y[cut], stub, left=lo, color="white", edgecolor="grey", hatch="///")
    for yi, value, is_cut in zip(y, values, cut):
        if is_cut:
            ax.text(lo + stub * 1.5, yi, fmt.format(value) + " (below the axis)", va="center", fontsize=8)
        else:
            ax.text(value - 0.01 * (hi - lo), yi, fmt.format(value), va="center", ha="right", fontsize=8,
                    color="white", fontweight="bold")
    ax.set_xlim(lo, hi)
    ax.set_yticks(y, names, fontsize=8)
    ax.grid(True, axis="x", alpha=0.4)
    ax.set_axisbelow(True)


def accuracy_vs_time(rows: Sequence[dict], records: Sequence[dict] | None = None, title: str | None = None,
                     ax: Axes | None = None) -> Figure:
    """Test accuracy against training seconds (log scale), one labelled point per run or benchmark row
    (``model``, ``test_accuracy``, ``fit_seconds``, optional ``label``), and ``records`` (dicts with ``label`` and
    ``accuracy``, e.g. published results) as horizontal reference lines."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    points = [r for r in rows if r.get("test_accuracy") is not None and r.get("fit_seconds") is not None]
    records = list(records or [])
    x = np.array([max(float(r["fit_seconds"]), 1e-3) for r in points])
    y = np.array([float(r["test_accuracy"]) for r in points])
    ax = new_axes(ax, (8.5, 5.8))
    ax.scatter(x, y, s=40, color="tab:blue", edgecolor="k", zorder=3)
    ax.set_xscale("log")
    # A logit axis spreads accuracy by its errors: 0.9 -> 0.99 -> 0.999 are equal steps (10x fewer errors each),
    # so a 0.11 baseline and 0.997 both fit and good models still stand apart.
    ax.set_yscale("logit")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.10g} %"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    every = np.concatenate([y, [float(r["accuracy"]) for r in records]])
    if len(every):
        logit = np.log(np.clip(every, 1e-4, 1 - 1e-5) / (1 - np.clip(every, 1e-4, 1 - 1e-5)))
        pad = 0.08 * max(logit.max() - logit.min(), 1.0)
        ax.set_ylim(*(1 / (1 + np.exp(-np.array([logit.min() - pad, logit.max() + pad])))))
    if len(x):
        ax.set_xlim(x.min() / 2.5, x.max() * 2.5)
    for record in records:
        ax.axhline(record["accuracy"], color="grey", linestyle=":", linewidth=1.2, zorder=1)
    ax.set_xlabel("Training time (seconds, log scale)")
    ax.set_ylabel("Test accuracy (logit scale: 90, 99, 99.9 % equally spaced)")
    ax.set_title(title or "Test accuracy against training time")
    ax.grid(True, which="major", alpha=0.4)
    _label_points(ax, x, y, [run_name(r) for r in points], records)
    return ax.figure


# Where a point's label may go, tried in turn, nearest first: (dx, dy) points from the point and the alignment
# that keeps the text on that side of it.
_SPOTS = [(sx * d, sy * d, {1: "left", 0: "center", -1: "right"}[sx], {1: "bottom", 0: "center", -1: "top"}[sy])
          for d in (4, 12, 22) for sx, sy in [(1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0)]
          if (sx, sy) != (0, 0)]


def _label_points(ax: Axes, x, y, names: Sequence[str], records: Sequence[dict]) -> None:
    """Name each record line at whichever end of it is clear of points, then label each point at the first spot
    where its text overlaps no other text, point or line, inside the Axes; else at the spot that overlaps least."""
    from matplotlib.text import Text
    from matplotlib.transforms import blended_transform_factory

    fig = ax.figure
    fig.draw_without_rendering()  # settle the layout, so that display positions are final
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else fig._get_renderer()
    frame = ax.get_window_extent(renderer)
    marks = ax.transData.transform(np.column_stack([x, y])) if len(x) else np.zeros((0, 2))
    taken = [_box(px - 4, py - 4, px + 4, py + 4) for px, py in marks]
    across = blended_transform_factory(ax.transAxes, ax.transData)
    for record in records:
        text = f"{record['label']}: {100 * record['accuracy']:.10g} %"
        tries = [ax.text(end, record["accuracy"], text, transform=across, ha=ha, va="bottom", fontsize=8,
                         color="dimgrey", in_layout=False) for end, ha in [(0.99, "right"), (0.01, "left")]]
        costs = [_cost(t.get_window_extent(renderer), taken, frame) for t in tries]
        keep = int(np.argmin(costs))
        tries[1 - keep].remove()
        taken.append(tries[keep].get_window_extent(renderer))
        line_y = ax.transData.transform([[1.0, record["accuracy"]]])[0, 1]
        taken.append(_box(frame.x0, line_y - 2, frame.x1, line_y + 2))
    for xi, yi, name in sorted(zip(x, y, names), key=lambda p: -p[1]):
        best = None
        for dx, dy, ha, va in _SPOTS:
            far = max(abs(dx), abs(dy)) > 10  # far spots get a leader line to their point
            text = ax.annotate(name, (xi, yi), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                               fontsize=8, arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.6} if far else None)
            text.set_in_layout(False)  # placed for the settled layout: it must not change it
            text.update_positions(renderer)
            box = Text.get_window_extent(text, renderer)  # the text alone: an Annotation's adds its leader line
            cost = _cost(box, taken, frame)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, text, box)
            else:
                text.remove()
            if cost == 0:
                break
        taken.append(best[2])
        if best[1].arrow_patch is not None:  # later labels keep off the leader line too
            taken.append(best[1].arrow_patch.get_window_extent(renderer))


def _cost(box, taken, frame) -> float:
    """How badly a text box sits: a thousand for each text, point or line it touches, plus the area it shares
    with them, plus ten times its area outside the Axes."""
    shared = [_overlap(box, other) for other in taken]
    return 1000 * sum(a > 0 for a in shared) + sum(shared) + 10 * (box.width * box.height - _overlap(box, frame))


def _box(x0, y0, x1, y1):
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _overlap(a, b) -> float:
    """The area two display boxes share."""
    return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
