"""What a task returns, and the run folder it writes when asked.

Every task returns a ``TaskResult``: the fitted ``model``, the ``metrics`` dict (the same keys the command
line's ``--json`` prints), ``plot_*`` methods that draw on the axes they are given, ``warnings`` about the
figures, and in Jupyter a short HTML summary. A task writes nothing unless given ``runs=`` (a folder): then a
``Recorder`` writes the run folder — ``config.json`` first, ``metrics.json`` as soon as the figures exist, then
the PNGs and the model file — and marks a run that failed or was interrupted as such.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from .._version import __version__
from ..errors import DigitlabError
from ..plain import plain
from ..runs import Run, new_run


@dataclass(repr=False, eq=False)
class TaskResult:
    """Figures, model and plots of one task; see the subclasses for each task's plots."""

    metrics: dict[str, Any]
    model: Any = None
    run: Path | None = None
    warnings: list[str] = field(default_factory=list)

    kind: ClassVar[str] = "task"
    headline_keys: ClassVar[tuple[str, ...]] = ()  # the figures a summary shows first

    def run_plots(self) -> dict[str, Callable]:
        """PNG file name -> plot method: the plots a run folder gets for this result."""
        return {}

    def save_plots(self, folder: str | Path) -> list[Path]:
        """Draw every plot of ``run_plots`` and write it as a PNG into ``folder``."""
        from ..evaluation.plots import save_figure

        return [save_figure(draw(), Path(folder) / name) for name, draw in self.run_plots().items()]

    def headline(self) -> str:
        """The main figures as words, e.g. "test accuracy 0.9714" (for messages and summaries)."""
        parts = [f"{key.replace('_', ' ')} {_short(self.metrics[key])}" for key in self.headline_keys
                 if self.metrics.get(key) is not None]
        return ", ".join(parts)

    def __repr__(self) -> str:
        where = f", run={str(self.run)!r}" if self.run else ""
        return f"{type(self).__name__}({self.metrics.get('model', '?')!r}: {self.headline() or 'no figures'}{where})"

    def _repr_html_(self) -> str:
        rows = [(key, self.metrics.get(key)) for key in ("model", "dataset", *self.headline_keys, "fit_seconds")]
        rows += [("run folder", self.run)] if self.run else []
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td style='text-align:left'>{html.escape(_short(v))}</td></tr>"
                       for k, v in rows if v is not None)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        plots = ", ".join(f"<code>{name}</code>" for name in dir(self) if name.startswith("plot_"))
        return (f"<div><b>{html.escape(type(self).__name__)}</b><table>{body}</table>"
                + (f"<ul style='color:#a40'>{notes}</ul>" if notes else "")
                + (f"<small>plots: {plots}</small>" if plots else "") + "</div>")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) <= 1 else f"{value:.2f}"
    if isinstance(value, dict):
        return " ".join(f"{k}={_short(v)}" for k, v in value.items())
    return str(value)


class Recorder:
    """The run folder of one task, written only when ``runs`` is given (None: nothing is written).

    Use as a context manager around the task's work: on entry it creates the folder and writes
    ``config.json``; ``finish`` writes the figures, plots and model; leaving with an exception marks the run
    ``failed`` (or ``interrupted`` for Ctrl-C) in ``metrics.json`` so the leaderboard does not list a half run.
    ``resume`` reuses an existing run folder instead of creating one.
    """

    def __init__(self, runs: str | Path | None, kind: str, label: str, config: dict[str, Any],
                 resume: Run | None = None):
        self.runs, self.kind, self.label = runs, kind, label
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        self.config = {"kind": kind, **config, "started": started, "digitlab": __version__}
        self.run: Run | None = resume
        self._resumed = resume is not None
        self._done = False

    @property
    def path(self) -> Path | None:
        return self.run.path if self.run else None

    def __enter__(self) -> "Recorder":
        if self.run is None and self.runs is not None:
            self.run = new_run(self.kind, self.label, self.runs)
        if self.run is not None and not self._resumed:
            self.run.write_config(plain(self.config))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.run is not None and exc_type is not None and not self._done:
            status = "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
            try:
                self.run.write_metrics({"status": status, "error": str(exc) or exc_type.__name__})
            except DigitlabError:
                pass  # the original error matters more than the failed note about it
        return False

    def finish(self, result: TaskResult, model_file: Callable[[Path], Path] | None = None) -> TaskResult:
        """Write metrics (first: they survive a full disk), the plots, then the model; fill ``result.run``.

        ``model_file(stem)`` saves the model under the run folder and returns its path. A write error is
        one sentence that still gives the figures computed.
        """
        self._done = True
        if self.run is None:
            return result
        metrics = {"run": str(self.run.path), **result.metrics}
        try:
            self.run.write_metrics(plain(metrics, finite=True))
            made = result.save_plots(self.run.path)
            metrics["plots"] = [p.name for p in made]
            if model_file is not None:
                metrics["model_file"] = str(model_file(self.run.file("model")))
            self.run.write_metrics(plain(metrics, finite=True))
        except DigitlabError as exc:
            figures = f"; {result.headline()} was measured" if result.headline() else ""
            raise DigitlabError(f"{str(exc).rstrip('.')}{figures}.") from None
        result.metrics, result.run = metrics, self.run.path
        return result
