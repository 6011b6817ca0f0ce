"""The leaderboard (``digitlab.leaderboard``): every run folder under the runs home as one row — the
classification notebook's train/test table, for any models and tasks — with bad run folders skipped, each with
one warning.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from .errors import DigitlabError, ParameterError
from .runs import list_runs

# Column -> header. "set" holds the parameters given when the run was started, the ones that tell runs of one
# model apart (the full set stays in config.json); "started" is the run's date.
COLUMNS = {
    "model": "model", "kind": "task", "dataset": "dataset", "n_train": "train images", "set": "params",
    "augment": "augment", "noise": "noise", "train_accuracy": "train acc", "test_accuracy": "test acc",
    "cv_accuracy": "cv acc", "psnr": "PSNR dB", "noisy_psnr": "noisy PSNR dB", "fit_seconds": "fit s",
    "predict_seconds": "predict s", "status": "status", "started": "date", "run": "run",
}
NUMBERS = ("n_train", "train_accuracy", "test_accuracy", "cv_accuracy", "psnr", "noisy_psnr", "fit_seconds",
           "predict_seconds")
LOWER_IS_BETTER = ("fit_seconds", "predict_seconds")  # ranked smallest first; text columns A to Z
KINDS = ("train", "denoise", "binary", "multiclass", "multilabel", "search")  # runs that measure a model
SHOWN_STATUS = ("complete", "interrupted")


class RunWarning(UserWarning):
    """A run folder the leaderboard could not read, or a run it leaves out."""


def leaderboard(root: str | Path | None = None, sort_by: str = "test_accuracy",
                include_all: bool = False) -> list[dict[str, Any]]:
    """One row per run that measured a model, best first by ``sort_by`` (runs without that figure last).

    A run folder whose files cannot be read, or whose figures are not numbers, is skipped with a RunWarning;
    failed and unfinished runs (and galleries, which measure nothing) are left out unless ``include_all``.
    """
    if sort_by not in COLUMNS:
        raise ParameterError("sort", f"{sort_by!r} is not a column; choose one of: {', '.join(COLUMNS)}.")
    rows, left_out = [], 0
    for run in list_runs(root):
        try:
            row = _row(run.read(), run.name)
        except DigitlabError as exc:
            warnings.warn(f"skipped run {run.name}: {exc}", RunWarning, stacklevel=2)
            continue
        if include_all or (row["kind"] in KINDS and row["status"] in SHOWN_STATUS):
            rows.append(row)
        elif row["kind"] in KINDS:
            left_out += 1
    if left_out:
        warnings.warn(f"{left_out} failed or unfinished run(s) not shown.", RunWarning, stacklevel=2)
    return sorted(rows, key=lambda row: _rank(row.get(sort_by), sort_by))


def _row(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The leaderboard's columns of one run's merged config and metrics; a figure that is not a number is an
    error naming it."""
    row = {key: data.get(key) for key in COLUMNS}
    for key in NUMBERS:
        value = row[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise DigitlabError(f"{key} is {str(value)[:40]!r} in metrics.json, not a number.")
    row |= {"set": _given_params(data), "run": name, "status": data.get("status", "complete"),
            "started": data.get("started") or _date_of(name)}
    if isinstance(row["dataset"], str) and row["dataset"].startswith("csv:"):  # the file's name is enough here
        row["dataset"] = "csv:" + Path(row["dataset"][4:]).name
    return row


def _rank(value: Any, column: str) -> tuple:
    """Sort key: missing values last; numbers best first (smallest first for times); text A to Z."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return (1, 0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value if column in LOWER_IS_BETTER else -value, "")
    return (0, 0, str(value).lower())


def _date_of(name: str) -> str | None:
    """'20261122-040312-train-…' -> '2026-11-22 04:03' (run folders are named by their UTC start)."""
    stamp = name[:15]
    if len(stamp) == 15 and stamp[8] == "-" and stamp.replace("-", "").isdigit():
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
    return None


def _given_params(data: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters that tell a run apart: those given when it started, and for a search the fixed ones with
    the best candidate found."""
    given = data.get("set")
    if "best_params" in data and isinstance(data["best_params"], dict):
        given = {**(data.get("fixed_params") or {}), **data["best_params"]}
    return given if isinstance(given, dict) and given else None
