"""The ``digitlab`` command: Typer app, one module per group of commands.

Errors that come from the user's input (``DigitlabError``) are printed as one sentence, with no traceback,
and the process exits non-zero; a task's parameter is named by this command line's flag (``--cv``).
"""

from __future__ import annotations

import os
import sys
import warnings

# Busy-waiting OpenMP threads starve the other core's work (measured 4x slower training on a loaded
# 2-core machine); this must be set before PyTorch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Plots are written as PNG files, with or without a screen: the file backend, chosen before pyplot loads.
os.environ.setdefault("MPLBACKEND", "Agg")

from ..errors import ClusterError, DigitlabError, ParameterError  # noqa: E402
from .common import app, err_console, flag  # noqa: E402
from . import core  # noqa: F401,E402  (registers its commands)
from . import chapter  # noqa: F401,E402  (registers its commands)
from . import report  # noqa: F401,E402  (registers its command)
from . import serve  # noqa: F401,E402  (registers its command)

INTERRUPTED = 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings (convergence, ...) as one line on stderr, not a source listing."""
    err_console.print(f"[yellow]warning:[/] {str(message).splitlines()[0]}", highlight=False)


def _error(message: str, code: int) -> int:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (also used by tests)."""
    import typer

    warnings.showwarning = _one_line_warning
    try:
        status = app(args=argv, prog_name="digitlab", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C, wherever it lands (Typer turns it into Abort)
        err_console.print("[yellow]interrupted[/]")
        return INTERRUPTED
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors Typer reports itself (unknown option, missing value)
        if hasattr(exc, "show"):
            exc.show()
        else:
            err_console.print(f"error: {exc}", highlight=False)
        return exc.exit_code
    except ParameterError as exc:
        return _error(f"{flag(exc.parameter)} {exc.problem}", exc.exit_code)
    except ClusterError as exc:
        return _error(exc.worded(lambda parameter, value: f"{flag(parameter)} {value}"), exc.exit_code)
    except DigitlabError as exc:
        return _error(str(exc), exc.exit_code)
    if status == INTERRUPTED:  # Typer turns a KeyboardInterrupt into this status without a word
        err_console.print("[yellow]interrupted[/]")
    return status if isinstance(status, int) else 0


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run"]
