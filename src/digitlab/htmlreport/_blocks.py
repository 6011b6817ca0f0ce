"""What a page is made of: tables and figures in titled sections, with values written the way a reader wants
them (accuracies to four decimals, large counts with separators, parameters as ``key=value``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

MISSING = "–"  # shown where a run has no value
# Names of figures as a reader writes them; the others lose their underscores (n_train -> n train).
LABELS = {"psnr": "PSNR (dB)", "noisy_psnr": "noisy input PSNR (dB)", "rmse": "RMSE", "noisy_rmse": "noisy input RMSE",
          "ssim": "SSIM", "ms_per_image": "ms per image", "roc_auc": "ROC AUC", "f1": "F1", "f1_macro": "F1 macro",
          "f1_weighted": "F1 weighted", "test_f1_macro": "test F1 macro", "test_f1_weighted": "test F1 weighted",
          "cv_accuracy": "CV accuracy", "best_cv_accuracy": "best CV accuracy", "cv_exact_match": "CV exact match",
          "cv_fit_seconds": "CV fit seconds", "baseline_cv_accuracy": "baseline CV accuracy", "cv": "CV folds"}


def label(key: str) -> str:
    return LABELS.get(key, str(key).replace("_", " "))


@dataclass
class Table:
    """Rows of display strings; ``numeric`` marks the columns aligned right."""

    title: str | None
    columns: list[str] | None  # None: a table of names and values, without a header row
    rows: list[list[str]]
    numeric: list[bool]
    note: str | None = None

    kind: ClassVar[str] = "table"


@dataclass
class Figure:
    """A PNG beside the page (``src`` is a relative, URL-quoted address)."""

    title: str
    src: str
    caption: str | None = None
    wide: bool = False  # galleries and grids: as wide as the page allows

    kind: ClassVar[str] = "figure"


@dataclass
class Section:
    title: str
    blocks: list[Table | Figure] = field(default_factory=list)
    intro: str | None = None


def fmt(value: Any) -> str:
    """A value as a reader wants it: 0.9714, 2.89, 0.000611, 60,000, yes, k=v k=v, a, b."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and abs(value) < 0.001:
            return f"{value:.3g}"
        return f"{value:.4f}" if abs(value) <= 1 else f"{value:.2f}"
    if isinstance(value, dict):
        return " ".join(f"{k}={fmt(v)}" for k, v in value.items()) or MISSING
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value) or MISSING
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_scalar(value: Any) -> bool:
    """A value one table cell holds: a number, a text, a flag, or a short list of them."""
    if isinstance(value, (list, tuple)):
        return len(value) <= 12 and all(v is None or isinstance(v, (str, int, float, bool)) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def fmt_seconds(value: Any) -> str:
    """Seconds to a precision that tells runs apart at a glance: 123, 12.4, 2.81, 0.014, <0.001."""
    if not is_number(value) or not math.isfinite(value):
        return fmt(value)
    if value >= 1:
        return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"
    return f"{value:.3f}" if value >= 0.001 else "<0.001"


def fmt_param(value: Any) -> str:
    """A parameter as it would be typed: 0.001, 1e-05, 400, onecycle."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return fmt(value)


def pairs_table(title: str | None, pairs: Iterable[tuple[str, Any]], note: str | None = None) -> Table | None:
    """A two-column table of names and values, without a header (None when there are none)."""
    rows = [[label(key), fmt(value)] for key, value in pairs]
    return Table(title, None, rows, [False, False], note) if rows else None


def records_table(title: str | None, records: Sequence[dict], columns: dict[str, str],
                  note: str | None = None) -> Table | None:
    """One row per record, the columns (key -> header) some record has; numbers aligned right."""
    keys = [key for key in columns if any(isinstance(r, dict) and r.get(key) is not None for r in records)]
    if not keys:
        return None
    rows = [[fmt(record.get(key)) for key in keys] for record in records]
    numeric = [all(is_number(r.get(key)) for r in records if r.get(key) is not None) for key in keys]
    return Table(title, [columns[key] for key in keys], rows, numeric, note)
