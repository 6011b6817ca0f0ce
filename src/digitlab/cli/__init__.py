"""The ``digitlab`` command: Typer app, one module per group of commands.

Errors that come from the user's input (``DigitlabError``) are printed as one sentence, with no
traceback, and the process exits non-zero.
"""

from __future__ import annotations

import os
import sys
import warnings

# Busy-waiting OpenMP threads starve the other core's work (measured 4x slower training on a loaded
# 2-core machine); this must be set before PyTorch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ..errors import DigitlabError
from .common import app, err_console
from . import core  # noqa: F401  (registers its commands)
from . import chapter  # noqa: F401  (registers its commands)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings (convergence, ...) as one line on stderr, not a source listing."""
    err_console.print(f"[yellow]warning:[/] {str(message).splitlines()[0]}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (also used by tests)."""
    warnings.showwarning = _one_line_warning
    try:
        app(args=argv, prog_name="digitlab")  # Typer reports its own usage errors and exits 2
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except DigitlabError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        return 130
    return 0


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run"]
