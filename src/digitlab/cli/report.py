"""The report command: the runs as a static HTML site, opened from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import Options, Output, app, with_options


@app.command()
@with_options("runs", "as_json")
def report(
    run: Optional[list[str]] = typer.Argument(None, help="Run folders, or their names under --runs (default: "
                                              "every run).", metavar="RUN", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the report: new, empty or a "
                                          "previous report (default: report/ in the runs folder).", file_okay=False),
    o: Options = None,
) -> None:
    """Write an HTML report of the runs: a sortable leaderboard and a page per run with its figures and charts;
    it opens from disk, offline. Prints the path of its index.html."""
    from ..htmlreport import report as write_report

    out = Output(o.as_json)
    result = write_report(o.runs, names=run or None, output=output)
    if o.as_json:
        out.result({**result.metrics, "pages": [str(page) for page in result.pages]})
    else:
        out.say(str(result.index))
