"""The static HTML report: ``digitlab.report()`` writes an index (the leaderboard, sortable, and a chart of test
accuracy against training time) and a page per run, with every stylesheet, script and image beside them, so
that it opens from disk, offline, and stays whole when the runs move.

    >>> import digitlab
    >>> digitlab.report("runs/demo").index            # doctest: +SKIP
    PosixPath('runs/demo/report/index.html')

(The package is not named ``report``: a submodule of that name would replace ``digitlab.report``, the
function, once imported.)
"""

from ._build import ReportResult, report

__all__ = ["report", "ReportResult"]
