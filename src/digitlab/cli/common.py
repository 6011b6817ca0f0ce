"""What every command shares: the Typer app, consoles, options declared once, output as a table or JSON, the
progress display, and the translation of a task's parameter names into this command line's flags."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import sys
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import UsageError
from ..plain import plain

app = typer.Typer(
    name="digitlab",
    help="Handwritten-digit recognition and denoising on MNIST-style data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no "<bool>" after on/off flags, and Rich stays unloaded for --help
)


def _usage_name(argument) -> str:
    """An argument in the usage line as the convention has it: MODEL_FILE, or [MODEL] when optional
    (Typer writes {model_file}, which reads like a template)."""
    name = argument.display_name_raw.upper()
    name = name if argument.required else f"[{name}]"
    return name + ("..." if argument.nargs != 1 else "")


if hasattr(typer.core.TyperArgument, "_usage_display_name"):
    typer.core.TyperArgument._usage_display_name = _usage_name


def _print_version(asked: bool) -> None:
    if asked:
        from .._version import __version__

        print(f"digitlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print digitlab's version and exit.")) -> None:
    """Handwritten-digit recognition and denoising on MNIST-style data."""

# Piped output gets room for the leaderboard instead of Rich's 80-column default.
out_console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 220)
err_console = Console(stderr=True)

# Options shared by many commands, declared once.
DatasetOpt = typer.Option(None, "--dataset", "-d", help="mnist, fashion-mnist, mnist-mini or csv:PATH "
                          "(default: mnist, or mnist-mini when MNIST cannot be found or downloaded).")
DataDirOpt = typer.Option(None, "--data-dir", help="Folder holding one sub-folder per dataset (mnist/, fashion-mnist/).",
                          file_okay=False)
SetOpt = typer.Option(None, "--set", "-s", help="Model parameter KEY=VALUE (repeatable).", metavar="KEY=VALUE")
SeedOpt = typer.Option(42, "--seed", help="Seed for everything random.")
RunsOpt = typer.Option(None, "--runs", help="Folder of run folders (default: $DIGITLAB_RUNS, else the user "
                       "data folder's digitlab/runs: `digitlab datasets` and `digitlab leaderboard` say where).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout instead of tables.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress display.")
NTrainOpt = typer.Option(None, "--n-train", help="Use the first N training images.")
NJobsOpt = typer.Option(1, "--n-jobs", help="Fits run at once (-1: all cores).")
SCHEDULER_ENV = "DIGITLAB_SCHEDULER"
SchedulerOpt = typer.Option(None, "--scheduler", envvar=SCHEDULER_ENV, show_envvar=True, metavar="ADDRESS|local:N",
                            help="Run the cross-validation fits on a Dask cluster: a scheduler's address "
                                 "(tcp://HOST:8786, started with `dask scheduler`; workers started with `dask worker "
                                 "tcp://HOST:8786`), or local:N to start N worker processes here for this command "
                                 "(--n-jobs is then unused; the final refit runs here).")

EpochsOpt = typer.Option(None, "--epochs", help="Neural models: passes over the training set.")
BatchOpt = typer.Option(None, "--batch-size", help="Neural models: images per optimiser step.")
LrOpt = typer.Option(None, "--lr", help="Neural models: (peak) learning rate.")
ResumeOpt = typer.Option(None, "--resume", help="Continue a neural model's interrupted run from its last "
                         "checkpoint (a run folder or its name); the model and data come from that run.")
NoSaveOpt = typer.Option(False, "--no-save", help="Do not write the model file (nor keep a checkpoint).")
DeviceOpt = typer.Option(None, "--device", metavar="auto|cpu|cuda",
                         help="Neural models: where the net trains and predicts: auto (a CUDA GPU when PyTorch sees "
                              "one, else the CPU; the nets' default), cpu or cuda. The model file loads anywhere.")
# The shared options by parameter name: (annotation, declaration). ``with_options`` adds them to a command.
SHARED = {
    "sets": (Optional[list[str]], SetOpt), "n_train": (Optional[int], NTrainOpt), "n_jobs": (int, NJobsOpt),
    "dataset": (Optional[str], DatasetOpt), "data_dir": (Optional[Path], DataDirOpt), "seed": (int, SeedOpt),
    "runs": (Optional[Path], RunsOpt), "as_json": (bool, JsonOpt), "quiet": (bool, QuietOpt),
    "scheduler": (Optional[str], SchedulerOpt),
    # a net's training, for train and denoise
    "epochs": (Optional[int], EpochsOpt), "batch_size": (Optional[int], BatchOpt), "lr": (Optional[float], LrOpt),
    "device": (Optional[str], DeviceOpt), "resume": (Optional[str], ResumeOpt), "no_save": (bool, NoSaveOpt),
}


@dataclass
class Options:
    """The shared options a command was given (those it declared with ``with_options``; the rest None)."""

    sets: Optional[list[str]] = None
    n_train: Optional[int] = None
    n_jobs: int = 1
    dataset: Optional[str] = None
    data_dir: Optional[Path] = None
    seed: int = 42
    runs: Optional[Path] = None
    as_json: bool = False
    quiet: bool = False
    scheduler: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    lr: Optional[float] = None
    device: Optional[str] = None
    resume: Optional[str] = None
    no_save: bool = False


def with_options(*names: str):
    """Give a command the shared options ``names`` (keys of SHARED), after its own, in this order; the
    command receives them as one ``Options`` argument named ``o`` instead of one parameter each."""
    def decorate(command):
        own = [p for name, p in inspect.signature(command).parameters.items() if name != "o"]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=SHARED[name][1],
                                   annotation=SHARED[name][0]) for name in names]

        @functools.wraps(command)
        def wrapper(**kwargs):
            return command(**{p.name: kwargs[p.name] for p in own}, o=Options(**{n: kwargs[n] for n in names}))

        wrapper.__signature__ = inspect.Signature([p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
                                                  + added)
        hints = typing.get_type_hints(command)
        wrapper.__annotations__ = {p.name: hints[p.name] for p in own} | {n: SHARED[n][0] for n in names}
        del wrapper.__wrapped__  # Typer must read the signature above, not the command's own
        return wrapper
    return decorate


# A task's parameter -> the flag that sets it, where the two names differ by more than - for _.
FLAGS = {"n_iter": "--random", "params": "--set"}


def flag(parameter: str) -> str:
    """The command-line flag of a task parameter: ``n_train`` -> ``--n-train``."""
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


class Output:
    """Where a command's results go: a Rich table for people or one JSON object for programs."""

    def __init__(self, as_json: bool = False, quiet: bool = False):
        self.as_json = as_json
        self.quiet = quiet or as_json and not err_console.is_terminal

    def info(self, message: str) -> None:
        """A line for people, on stderr, unless quiet or JSON."""
        if not self.quiet and not self.as_json:
            err_console.print(message, highlight=False, soft_wrap=True)  # paths whole: the terminal wraps them

    def say(self, message: str) -> None:
        """A sentence that is the command's answer (stdout), when there is no table to show."""
        out_console.print(message, highlight=False)

    def warn(self, message: str) -> None:
        """Always shown (stderr), even with --json, because it changes what the numbers mean."""
        err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)

    def result(self, data: dict[str, Any], title: str | None = None, keys: list[str] | None = None) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(plain(data, finite=True)) + "\n")
            sys.stdout.flush()
            return
        table = Table(title=title, show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for key in keys or list(data):
            if key in data and not isinstance(data[key], (list, dict)) or key in (keys or []):
                table.add_row(key, fmt(data.get(key)))
        out_console.print(table)

    def table(self, rows: list[dict[str, Any]], columns: list[str], title: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        table = Table(title=title)
        for col in columns:
            table.add_column((headers or {}).get(col, col), overflow="fold")
        for row in rows:
            table.add_row(*(fmt(row.get(col)) for col in columns))
        out_console.print(table)

    @contextlib.contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator["Step"]:
        """A progress bar (or spinner when ``total`` is None) on a terminal; silent otherwise."""
        if self.quiet or not err_console.is_terminal:
            yield Step(None, None)
            return
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield Step(bar, task)

    @contextlib.contextmanager
    def working(self, description: str, total: float | None = None) -> Iterator["Step"]:
        """A progress display, with scikit-learn's repeated convergence warnings folded into one line."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            with self.progress(description, total) as step:
                yield step
        unconverged = 0
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                unconverged += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if unconverged:
            self.warn(f"{unconverged} fit(s) stopped at max_iter before converging; the figures are those of the "
                      f"stopped models (--set max_iter=N allows more iterations).")

    def notes(self, result) -> None:
        """A result's warnings (they change what its figures mean), then where its run folder is."""
        for message in result.warnings:
            self.warn(message)
        if result.run is not None:
            self.info(f"run folder: {result.run}")


class Step:
    """Handle to advance a progress display; does nothing when there is none (a task's ``progress``)."""

    def __init__(self, bar: Progress | None, task):
        self.bar, self.task = bar, task

    def __call__(self, advance: float = 1, description: str | None = None, total: float | None = None,
                 completed: float | None = None) -> None:
        if self.bar is not None:
            kwargs = {"advance": advance} if completed is None else {"completed": completed}
            if description is not None:
                kwargs["description"] = description
            if total is not None:
                kwargs["total"] = total
            self.bar.update(self.task, **kwargs)


def fmt(value: Any) -> str:
    """Short human form of a figure: 4 decimals up to 1 (accuracies), else 2 (seconds, dB)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4f}" if abs(value) <= 1 else f"{value:.2f}"
    if isinstance(value, dict):  # parameters: floats to 4 significant digits (C=0.06251), the rest as given
        return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def parse_sets(items: Optional[list[str]], option: str = "--set") -> dict[str, Any]:
    """Turn repeated KEY=VALUE options into a dict, refusing malformed ones."""
    from ..models import registry

    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {item!r} is not of the form KEY=VALUE.")
        params[key.strip()] = registry.parse_value(value.strip())
    return params


def load_data(dataset: str | None, data_dir: Path | None, out: Output, seed: int = 42, holdout: float | None = None):
    """The dataset a command runs on (see ``tasks.data.dataset_for``), with a download progress bar."""
    from ..data.fetch import progress_lines
    from ..tasks.data import dataset_for

    with out.progress("looking for data") as step:
        def downloading(file_name: str, done: int, total: int | None) -> None:
            step(description=f"downloading {file_name}", total=total, completed=done)

        # No bar can be drawn into a log or a pipe: a download reports itself in plain lines there.
        plain_lines = not out.quiet and not err_console.is_terminal
        return dataset_for(dataset, data_dir=data_dir, seed=seed, holdout=holdout,
                           progress=progress_lines() if plain_lines else downloading)
