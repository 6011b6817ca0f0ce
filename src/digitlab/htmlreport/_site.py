"""The report's folder: claimed only when it is new, empty or a previous digitlab report, written file by file
atomically, and listed in a marker file so that a rebuild removes only the files a report wrote before.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from .._version import __version__
from ..errors import OutputError
from ..fileio import atomic_open, atomic_path, write_json

MARKER = ".digitlab-report"  # JSON: the files the last report wrote, relative to the folder


class Site:
    """A report folder being written; ``finish`` records what was written and removes what a previous report
    wrote that this one did not (a run no longer reported), and nothing else."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.previous = _claim(self.folder)
        self.written: set[str] = set()
        # Marked before anything else is written: a build stopped half-way leaves a folder a rebuild may reuse.
        write_json(self.folder / MARKER, {"digitlab": __version__, "files": sorted(self.previous)})

    def path(self, relative: str) -> Path:
        """The file ``relative`` (a POSIX path inside the folder), recorded as written by this report."""
        self.written.add(relative)
        return self.folder / PurePosixPath(relative)

    def write_text(self, relative: str, text: str) -> Path:
        target = self.path(relative)
        with atomic_open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        return target

    def copy(self, source: Path, relative: str) -> Path:
        """Copy ``source`` into the report, so that the report stays whole when runs move or go."""
        target = self.path(relative)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
        return target

    def figure(self, fig: Any, relative: str) -> Path:
        """Save a matplotlib figure as the PNG ``relative``."""
        from ..evaluation.plots import save_figure

        return save_figure(fig, self.path(relative))

    def finish(self) -> None:
        for relative in sorted(self.previous - self.written):
            _remove_stale(self.folder, relative)
        write_json(self.folder / MARKER, {"digitlab": __version__, "files": sorted(self.written)})


def _claim(folder: Path) -> set[str]:
    """Make sure ``folder`` may be written (new, empty, or a digitlab report); the files its last report wrote."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder; give a folder for the report.")
    marker = folder / MARKER
    try:
        if folder.is_dir() and any(folder.iterdir()) and not marker.is_file():
            raise OutputError(f"{folder} holds files that are not a digitlab report; give an empty or new folder "
                              f"for the report so that nothing there is overwritten.")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot write the report into {folder}: {(exc.strerror or str(exc)).lower()}.") from None
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"] if marker.is_file() else []
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        files = []  # a damaged marker still marks the folder as a report; its old files are then kept
    return {f for f in files if isinstance(f, str) and _inside(f)}


def _inside(relative: str) -> bool:
    """A path a report may have written: relative, without '..', not the marker itself."""
    parts = PurePosixPath(relative).parts
    return bool(parts) and not PurePosixPath(relative).is_absolute() and ".." not in parts and relative != MARKER


def _remove_stale(folder: Path, relative: str) -> None:
    """Remove a file an earlier report wrote, then the folders it leaves empty (never ``folder`` itself)."""
    path = folder / PurePosixPath(relative)
    if path.is_symlink() or not path.is_file():
        return
    with contextlib.suppress(OSError):  # a file that cannot be removed is left, as a user's file would be
        path.unlink()
        parent = path.parent
        while parent != folder and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
