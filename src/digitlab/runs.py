"""Run folders: one per experiment, under one runs home.

Each run writes one folder under the runs home — ``--runs DIR``, else ``$DIGITLAB_RUNS``, else the user
data folder (``~/.local/share/digitlab/runs`` on Linux) — so every command finds every run, whatever the
current folder: ``config.json`` (what was asked), ``metrics.json`` (what was measured, with its ``status``),
the model file and PNG charts. ``digitlab.leaderboard`` (ranking.py) reads them all back.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .errors import DigitlabError
from .fileio import write_json



def runs_root(root: str | Path | None = None) -> Path:
    """The folder that holds run folders: the argument, else $DIGITLAB_RUNS, else the user data folder's runs/."""
    if root or os.environ.get("DIGITLAB_RUNS"):
        return Path(root or os.environ["DIGITLAB_RUNS"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("digitlab")) / "runs"


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
        """config and metrics merged (metrics win); a missing metrics.json is an unfinished run.

        A file that is not a JSON object (damaged, hand-edited, not UTF-8, a folder) raises a DigitlabError
        naming it, so one bad run can be skipped while the others are read.
        """
        out: dict[str, Any] = {}
        for part in ("config.json", "metrics.json"):
            path = self.file(part)
            if part == "metrics.json" and not path.exists():
                out.setdefault("status", "unfinished")
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
                raise DigitlabError(f"{path}: cannot be read as JSON ({reason}).") from None
            if not isinstance(data, dict):
                raise DigitlabError(f"{path}: holds a JSON {type(data).__name__}, not an object.")
            out.update(data)
        return out

    def sweep_parts(self) -> list[Path]:
        """Remove the temporary ``.*.part`` files a killed process left in the folder; return them."""
        stale = [p for p in self.path.glob(".*.part") if p.is_file()]
        for part in stale:
            part.unlink(missing_ok=True)
        return stale


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
