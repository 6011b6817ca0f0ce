"""Build the report: read the runs through the leaderboard, write a page per run, then the index."""

from __future__ import annotations

import html
import math
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from .._version import __version__
from ..errors import DigitlabError, OutputError
from ..ranking import COLUMNS, LOWER_IS_BETTER, NUMBERS, RunWarning, leaderboard
from ..runs import Run, find_run, runs_root
from ._blocks import MISSING, fmt, fmt_seconds
from ._pages import Page, build_page
from ._site import Site

# The index's columns: the leaderboard's, but the run folder (the model's name links to its page) and the noisy
# input's PSNR (beside the cleaned PSNR on the run's page), so that the table fits a laptop's screen; status last.
HEADERS = {key: header for key, header in {**COLUMNS, "n_train": "images", "set": "key params", "kind": "task"}.items()
           if key not in ("run", "noisy_psnr", "status")} | {"status": "status"}
# Columns whose text may break over lines (a model's name only when long: "random-forest" stays whole).
WRAPPED = ("model", "set", "dataset", "noise")
STATIC = ("report.css", "report.js")
CHART = "accuracy_vs_time.png"
# What a damaged metrics.json (edited by hand, written by another tool) makes a page fail with.
DAMAGED = (DigitlabError, TypeError, ValueError, KeyError, AttributeError, IndexError)


@dataclass(repr=False)
class ReportResult:
    """The report written: ``index`` (index.html), the run ``pages``, and ``metrics`` (``index``, ``n_runs``,
    ``skipped``: one sentence per run folder left out)."""

    index: Path
    pages: list[Path] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def _runs(self) -> str:
        n, skipped = self.metrics.get("n_runs", 0), len(self.metrics.get("skipped", []))
        return f"{n} run{'' if n == 1 else 's'}" + (f", {skipped} skipped" if skipped else "")

    def __repr__(self) -> str:
        return f"ReportResult({str(self.index)!r}: {self._runs()})"

    def _repr_html_(self) -> str:
        return (f"<div><b>digitlab report</b>: <a href='{html.escape(self.index.as_uri())}' target='_blank'>"
                f"{html.escape(str(self.index))}</a> ({self._runs()})</div>")


def report(runs: str | Path | None = None, names: Sequence[str | Path] | None = None,
           output: str | Path | None = None) -> ReportResult:
    """Write a static HTML report of the runs under ``runs`` (default: the runs home), or of the runs ``names``
    (folder names there, or paths): an index with the leaderboard, sortable by any column, and a chart of test
    accuracy against fit time; a page per run with its configuration, figures and charts. ``output`` (default
    ``<runs home>/report``) must be new, empty or a previous report. Open ``result.index`` in a browser: it
    works offline and from any folder.

    A run folder that cannot be read is left out with a warning; the report is still written.
    """
    root = runs_root(runs)
    if names is None and not root.is_dir():
        raise DigitlabError(f"No runs in {root}: it is not a folder (`digitlab train knn-fast` or `make demo` "
                            f"makes some).")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entries = _entries(root, names)  # first: a run that does not exist leaves no report folder behind
        site = Site(Path(output).expanduser() if output is not None else root / "report")
        pages = _pages(entries, site)
    skipped = []
    for w in caught:  # shown again, now that the block is left, as they would have been
        if issubclass(w.category, RunWarning) and str(w.message).startswith("skipped run"):
            skipped.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for name in STATIC:
        site.write_text(f"static/{name}", resources.files(__package__).joinpath("static", name).read_text("utf-8"))
    index = _write_index(site, pages, root if names is None else None, skipped)
    site.finish()
    return ReportResult(index, [site.folder / page.href for _, page in pages],
                        {"index": str(index), "output": str(site.folder), "n_runs": len(pages), "skipped": skipped})


def _entries(root: Path, names: Sequence[str | Path] | None) -> list[tuple[dict, Path]]:
    """(leaderboard row, run folder) of every run under ``root``, or of the runs ``names``, best first."""
    if names is None:
        return [(row, root / row["run"]) for row in leaderboard(root, include_all=True)]
    wanted: dict[Path, None] = {}
    for name in names:
        run = find_run(name, root)  # a DigitlabError naming it when there is no such folder
        if run.file("config.json").is_file():
            wanted[run.path.resolve()] = None
        else:
            warnings.warn(f"skipped run {run.name}: it holds no config.json, so it is not a run folder.", RunWarning)
    entries = []
    for parent in dict.fromkeys(path.parent for path in wanted):
        chosen = {path.name for path in wanted if path.parent == parent}
        entries += [(row, parent / row["run"]) for row in _leaderboard_of(parent, chosen)]
    return sorted(entries, key=lambda entry: _best_first(entry[0]))


def _leaderboard_of(parent: Path, chosen: set[str]) -> list[dict]:
    """The leaderboard rows of the runs ``chosen`` in ``parent``, with the warnings about those runs only."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = leaderboard(parent, include_all=True)
    for w in caught:
        if any(str(w.message).startswith(f"skipped run {name}:") for name in chosen):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return [row for row in rows if row["run"] in chosen]


def _best_first(row: dict) -> tuple:
    """The leaderboard's order: highest test accuracy first, runs without one last."""
    value = row.get("test_accuracy")
    if not isinstance(value, (int, float)) or isinstance(value, float) and math.isnan(value):
        return (1, 0.0)
    return (0, -value)


def _pages(entries: list[tuple[dict, Path]], site: Site) -> list[tuple[dict, Page]]:
    """Write each run's page; a run whose files are not what digitlab writes is left out with a warning."""
    pages, slugs = [], set()
    for row, folder in entries:
        slug = _slug(row["run"], slugs)
        try:
            page = build_page(Run(folder), site, slug)
        except OutputError:
            raise
        except DAMAGED as exc:
            warnings.warn(f"skipped run {row['run']}: {str(exc).rstrip('.') or type(exc).__name__}.", RunWarning)
            continue
        site.write_text(f"runs/{slug}/index.html", _render("run.html.j2", page=page, root="../../"))
        pages.append((row, page))
    return pages


def _slug(name: str, taken: set[str]) -> str:
    """A folder name for a run's page: safe in a URL and on any file system, unique in the report."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:80] or "run"
    slug, n = base, 1
    while slug.lower() in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug.lower())
    return slug


def _render(template: str, **context: Any) -> str:
    """A page from the package's templates; every value is HTML-escaped unless a template says otherwise."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    built = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template(template).render(version=__version__, built=built, **context)


def _write_index(site: Site, pages: list[tuple[dict, Page]], root: Path | None, skipped: list[str]) -> Path:
    """index.html: the leaderboard of the reported runs, a link to each page, and the accuracy-time chart."""
    rows = [row for row, _ in pages]
    keys = [key for key in HEADERS if (key in ("model", "status") or any(
        row.get(key) not in (None, {}) for row in rows))]
    columns = [{"label": HEADERS[key], "number": key in NUMBERS, "key": key,
                "first": "descending" if key in NUMBERS and key not in LOWER_IS_BETTER else "ascending"}
               for key in keys]
    table = [{"status": _status_class(row), "cells": [_cell(row, key, page) for key in keys]} for row, page in pages]
    return site.write_text("index.html", _render("index.html.j2", root="", columns=columns, rows=table,
                                                 chart=_chart(site, rows), source=root, skipped=skipped))


def _cell(row: dict, key: str, page: Page) -> dict[str, Any]:
    """One cell of the index: its text, the value it sorts by ('' for none: last) and, for the model, the link."""
    value = row.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        sort = "" if isinstance(value, float) and not math.isfinite(value) else repr(value)
    else:
        sort = "" if value in (None, {}) else fmt(value)
    text = fmt_seconds(value) if key.endswith("_seconds") else fmt(value) if value != {} else MISSING
    if key == "model" and value is None:  # a gallery: no model, but a page to open all the same
        text = sort = str(row.get("kind") or "run")
    return {"text": text, "sort": sort, "wrap": key in WRAPPED and (key != "model" or len(text) > 20),
            "href": page.href if key == "model" else None, "title": page.name if key == "model" else None}


def _status_class(row: dict) -> str:
    status = str(row.get("status"))
    return status if status in ("complete", "failed", "interrupted", "unfinished") else "other"


def _chart(site: Site, rows: list[dict]) -> str | None:
    """Test accuracy against fit seconds of the classifier runs, as a PNG beside the index (None: no such run)."""
    from matplotlib.figure import Figure

    from ..evaluation import plots

    points = [row for row in rows if isinstance(row.get("test_accuracy"), (int, float))
              and isinstance(row.get("fit_seconds"), (int, float)) and row.get("status") in ("complete", "interrupted")]
    if not points:
        return None
    ax = Figure(figsize=(8.5, 5.8), layout="constrained").add_subplot()
    plots.accuracy_vs_time(points, ax=ax, title="Test accuracy against training time")
    site.figure(ax.figure, CHART)
    return CHART
