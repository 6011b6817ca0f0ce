"""Run folders and the leaderboard.

Each experiment writes one folder under the runs root (``./runs`` or ``$DIGITLAB_RUNS``):
``config.json`` (what was asked), ``metrics.json`` (what was measured), the model file and PNG
plots. The leaderboard reads them all back: seed 003's train/test table, for any models.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .errors import DigitlabError
from .fileio import write_json

DEFAULT_ROOT = "runs"


def runs_root(root: str | Path | None = None) -> Path:
    """The folder that holds run folders: the argument, else $DIGITLAB_RUNS, else ./runs."""
    return Path(root or os.environ.get("DIGITLAB_RUNS") or DEFAULT_ROOT)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")[:40] or "run"


@dataclass
class Run:
    """One run folder."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: dict[str, Any]) -> None:
        write_json(self.file("config.json"), config)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json(self.file("metrics.json"), metrics)

    def read(self) -> dict[str, Any]:
        """config and metrics merged (metrics win); empty dicts for missing files."""
        out: dict[str, Any] = {}
        for part in ("config.json", "metrics.json"):
            try:
                out.update(json.loads(self.file(part).read_text(encoding="utf-8")))
            except (FileNotFoundError, json.JSONDecodeError):
                pass
        return out


def new_run(kind: str, label: str, root: str | Path | None = None,
            clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Run:
    """Create a fresh, uniquely named run folder ``<UTC time>-<kind>-<label>``."""
    root = runs_root(root)
    stamp = clock().strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{_slug(kind)}-{_slug(label)}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
                return Run(path)
            except FileExistsError:
                continue
    except PermissionError:
        raise DigitlabError(f"Cannot create a run folder in {root}: permission denied.") from None
    except OSError as exc:
        raise DigitlabError(f"Cannot create a run folder in {root}: {exc.strerror or exc}.") from None
    raise DigitlabError(f"Cannot create a run folder in {root}: too many runs named {base}.")


def find_run(name: str | Path, root: str | Path | None = None) -> Run:
    """A run given by path or by folder name under the runs root."""
    path = Path(name)
    if not path.is_dir():
        path = runs_root(root) / name
    if not path.is_dir():
        raise DigitlabError(f"No run folder {name} (looked in {runs_root(root)}).")
    return Run(path)


def list_runs(root: str | Path | None = None) -> list[Run]:
    root = runs_root(root)
    if not root.is_dir():
        return []
    return [Run(p) for p in sorted(root.iterdir()) if (p / "config.json").is_file()]


# Leaderboard column -> header. "set" holds the parameters given on the command line, the ones
# that tell runs of one model apart; the full parameter set stays in config.json.
LEADERBOARD_COLUMNS = {
    "model": "model", "kind": "task", "dataset": "dataset", "n_train": "train images", "set": "params",
    "augment": "augment",
    "train_accuracy": "train acc", "test_accuracy": "test acc", "cv_accuracy": "cv acc", "psnr": "PSNR dB",
    "fit_seconds": "fit s", "predict_seconds": "predict s", "run": "run",
}


def leaderboard(root: str | Path | None = None, sort_by: str = "test_accuracy") -> list[dict[str, Any]]:
    """One row per run, best first by ``sort_by`` (runs without that figure last)."""
    rows = []
    for run in list_runs(root):
        data = run.read()
        rows.append({key: data.get(key) for key in LEADERBOARD_COLUMNS} | {"set": _given_params(data),
                                                                          "run": run.name})

    def key(row):
        value = row.get(sort_by)
        return (value is None, -(value or 0.0))

    return sorted(rows, key=key)


def _given_params(data: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters that tell a run apart: those set on the command line, and for a search the fixed ones
    with the best candidate found."""
    if "set" in data:
        return data["set"]
    if "best_params" in data:
        return {**(data.get("fixed_params") or {}), **data["best_params"]}
    return None


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` and return its result with the wall seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start
