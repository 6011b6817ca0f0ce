"""Core commands: datasets, models, train, denoise, evaluate, predict, info, leaderboard, demo.

Each parses its options, calls one function of the public API and renders the result it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import (SCHEDULER_ENV, DataDirOpt, JsonOpt, Options, Output, RunsOpt, app, load_data, parse_sets,
                     with_options)

INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C


@app.command()
def datasets(data_dir: Optional[Path] = DataDirOpt, as_json: bool = JsonOpt) -> None:
    """List the datasets, where each was found and whether its content was verified."""
    from ..api import list_datasets

    out = Output(as_json)
    rows = list_datasets(data_dir)
    if as_json:
        out.result({"datasets": rows})
    else:
        out.table(rows, ["name", "found_by", "path", "verified", "download_to"], title="Datasets")
        out.info(f"Downloads go to {rows[0]['cache_dir']} ($DIGITLAB_CACHE changes it); to use files you have, put "
                 f"each dataset's four idx files in a NAME/ folder under --data-dir or $DIGITLAB_DATA.")


@app.command()
def models(task: Optional[str] = typer.Option(None, help="classify or denoise"), as_json: bool = JsonOpt) -> None:
    """List the models with their default parameters."""
    from ..api import list_models

    out = Output(as_json)
    rows = list_models(task)
    if as_json:
        out.result({"models": rows})
    else:
        out.table(rows, ["name", "task", "summary", "defaults"], title="Models")


NTestOpt = typer.Option(None, "--n-test", help="Score on the first N test images.")
RunSeedOpt = typer.Option(None, "--seed", help="Seed for everything random (default 42).", show_default=False)
EnsembleSchedulerOpt = typer.Option(
    None, "--scheduler", metavar="ADDRESS|local:N",
    help=f"cnn-ensemble: train its members one per Dask worker, on the cluster of a scheduler's address "
         f"(tcp://HOST:8786) or on local:N worker processes started here (without checkpoints; ${SCHEDULER_ENV} "
         f"is used for cnn-ensemble when this is not given).")


def _model_params(o: Options, model: str | None, preset: str | None = None) -> dict | None:
    """--set values, with the neural shorthands --epochs, --batch-size, --lr, --preset and --device on top."""
    sets, epochs, batch_size, lr, device = o.sets, o.epochs, o.batch_size, o.lr, o.device
    params = parse_sets(sets)
    if device is not None:
        _check_device(model)
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("preset", preset),
                       ("device", device)):
        if value is not None:
            params[key] = value
    return params or None


def _check_device(model: str | None) -> None:
    """--device is the nets' ``device`` parameter: a model without one is refused in a sentence that names those
    with it."""
    from ..models import registry

    if model is not None and "device" not in registry.parameters(model):
        nets = [name for name in registry.names() if "device" in registry.parameters(name)]
        raise UsageError(f"--device is for the neural models ({', '.join(nets)}); {model} computes on the CPU only.")


def _fit(out: Output, o: Options, task, label: str, model, params, n_test, seed, holdout=None, **own):
    """Load the data (a resumed run names its own), then run a train or denoise task under a progress bar."""
    from ..runs import runs_root

    data = o.dataset if o.resume else load_data(o.dataset, o.data_dir, out, 42 if seed is None else seed, holdout)
    with out.progress(label) as step:
        return task(model, data, params=params, n_train=o.n_train, n_test=n_test, seed=seed, runs=runs_root(o.runs),
                    save_model=not o.no_save, resume=o.resume, data_dir=o.data_dir, progress=step, **own)


def _finish_fit(out: Output, result, title: str, keys: list[str]) -> None:
    """Render a train or denoise result; an interrupted run says so and exits 130."""
    out.notes(result)
    out.result(result.metrics, title=title, keys=keys)
    if result.metrics["status"] == "interrupted":
        kept = result.metrics["model_file"] if "model_file" in result.metrics else None
        resume = f" (resume with --resume {result.run})" if kept and result.run else ""
        saved = "the model so far (its last epoch, or its best validated one) is saved" + resume
        out.warn(f"training was interrupted; {saved if kept else 'no model was kept'}.")
        raise typer.Exit(INTERRUPTED)


FIT = ("sets", "epochs", "batch_size", "lr", "device", "resume", "no_save", "n_train", "dataset", "data_dir",
       "runs", "as_json", "quiet")  # shared options of train/denoise


def _ensemble_scheduler(given: str | None, model: str | None, resume: str | None) -> str | None:
    """--scheduler as given (the task refuses it for a model it cannot spread), else $DIGITLAB_SCHEDULER when the
    model can use it: the variable set for the chapter's commands does not stop `train knn` or a resumed run."""
    import os

    from ..tasks.train import takes_scheduler

    if given:
        return given
    env = os.environ.get(SCHEDULER_ENV)
    return env if env and model is not None and resume is None and takes_scheduler(model) else None


@app.command()
@with_options(*FIT)
def train(
    model: Optional[str] = typer.Argument(None, help="Model name (see `digitlab models`).", metavar="MODEL"),
    augment: Optional[str] = typer.Option(None, "--augment", help="Training-set augmentation: shift."),
    n_test: Optional[int] = NTestOpt,
    holdout: Optional[float] = typer.Option(None, "--holdout", help="csv:PATH datasets: share of the rows held "
                                            "out as the test split (default 0.2; 0 trains on every row)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="cnn and cnn-ensemble: standard (99.7%, "
                                         "7-8 min of training on 2 cores with native bfloat16, about 23 min with "
                                         "AVX2 only) or fast (99.1-99.2% in 4-5 s; about 11 s with AVX2 only)."),
    scheduler: Optional[str] = EnsembleSchedulerOpt,
    seed: Optional[int] = RunSeedOpt,
    o: Options = None,
) -> None:
    """Train a classifier, score it on the test split and save a run folder."""
    from ..tasks.train import train as run_train

    out = Output(o.as_json, o.quiet)
    if model is None and o.resume is None:
        raise UsageError("Name a model to train (see `digitlab models`), or give --resume RUN.")
    result = _fit(out, o, run_train, model or "resuming", model, _model_params(o, model, preset), n_test, seed,
                  holdout=holdout, augment=augment, scheduler=_ensemble_scheduler(scheduler, model, o.resume))
    _finish_fit(out, result, f"{result.metrics['model']} on {result.metrics['dataset']}",
                ["model", "dataset", "params", "n_train", "n_test", "train_accuracy", "test_accuracy", "fit_seconds",
                 "predict_seconds", "run"])


@app.command()
@with_options(*FIT)
def denoise(
    model: Optional[str] = typer.Argument(None, help="Denoiser name (see `digitlab models --task denoise`); "
                                          "default knn-denoise.", metavar="MODEL"),
    noise: str = typer.Option("uniform:100", "--noise", help="uniform:HIGH, gaussian:SIGMA or saltpepper:P."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Clean the first N test images."),
    seed: Optional[int] = RunSeedOpt,
    o: Options = None,
) -> None:
    """Train a denoiser on noisy train images against clean ones; report RMSE, PSNR, SSIM and a PNG grid."""
    from ..data.noise import parse_noise
    from ..tasks.denoise import denoise as run_denoise

    out = Output(o.as_json, o.quiet)
    parse_noise(noise)  # refuse a bad spec before loading any data
    result = _fit(out, o, run_denoise, f"{model or 'denoiser'} on {noise}", model, _model_params(o, model), n_test,
                  seed, noise=noise)
    m = result.metrics
    m["plot"] = str(Path(m["run"]) / "denoise.png") if "denoise.png" in m.get("plots", []) else None
    _finish_fit(out, result, f"{m['model']} denoising {m['noise']} on {m['dataset']}",
                ["model", "noise", "dataset", "n_train", "n_test", "rmse", "psnr", "ssim", "noisy_rmse", "noisy_psnr",
                 "fit_seconds", "predict_seconds", "ms_per_image", "plot", "run"])


@app.command()
@with_options("dataset", "data_dir", "as_json", "quiet")
def evaluate(
    model_file: Path = typer.Argument(..., help="A model file written by digitlab (.skops or .safetensors).",
                                      metavar="MODEL_FILE"),
    n_test: Optional[int] = NTestOpt,
    seed: int = typer.Option(42, "--seed", help="Seed of the test noise, for a denoiser."),
    o: Options = None,
) -> None:
    """Score a saved model on a dataset's test split (the dataset it was trained on by default): accuracy,
    per-class precision, recall and F1, the confusion matrix and the most confused digits."""
    from ..tasks.evaluate import evaluate as run_evaluate

    out = Output(o.as_json, o.quiet)
    data = load_data(o.dataset, o.data_dir, out, seed) if o.dataset else None
    report = run_evaluate(model_file, data, n_test=n_test, seed=seed, data_dir=o.data_dir)
    m = report.metrics
    out.notes(report)
    if o.as_json:
        out.result(m)
        return
    if "per_class" in m:
        out.table(m["per_class"], ["label", "precision", "recall", "f1", "support"], title="Per class (test split)")
        out.table(m["most_confused"], ["actual", "predicted", "count"], title="Most confused")
    out.result(m, title=str(model_file), keys=[k for k in m if k not in ("per_class", "confusion_matrix", "labels",
                                                                          "most_confused")])


@app.command()
@with_options("as_json", "quiet")
def predict(
    model_file: Optional[Path] = typer.Argument(None, help="A classifier file written by digitlab (default: the "
                                                "CNN shipped with digitlab).", metavar="MODEL_FILE",
                                                show_default=False),
    input: Path = typer.Option(..., "--input", "-i", help="Kaggle test.csv, an image, or a folder of images."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="CSV to write (ImageId,Label for a Kaggle "
                                          "CSV); - for standard output. Images without it: a table."),
    save_preprocessed: Optional[Path] = typer.Option(None, "--save-preprocessed", file_okay=False,
                                                     help="Folder for the 28x28 images the model saw (PNG)."),
    o: Options = None,
) -> None:
    """Predict labels for a Kaggle test.csv (writes submission.csv) or for PNG/JPEG images, with the
    probability of each label and the runner-up."""
    import sys

    from ..tasks.predict import predict as run_predict

    out = Output(o.as_json, o.quiet)
    if output is None and input.suffix.lower() == ".csv":
        raise UsageError(f"{input} is a CSV: give --output submission.csv (or - for standard output).")
    to_stdout = str(output) == "-"
    result = run_predict(model_file, input, output=None if to_stdout else output,
                         save_preprocessed=save_preprocessed)
    out.notes(result)
    for problem in result.metrics["errors"].values():  # each names its image; the other images were read
        out.warn(problem)
    if to_stdout:
        result.write_csv(sys.stdout)
    elif output is None and o.as_json:
        out.result({**result.metrics, "rows": result.rows()})
    elif output is None:
        out.table(result.rows(), ["image", "label", "probability", "runner_up", "runner_up_probability"],
                  title=f"Predictions ({model_file or 'the CNN shipped with digitlab'})",
                  headers={"runner_up": "runner-up", "runner_up_probability": "its probability"})
    else:
        out.result(result.metrics, title="Predictions", keys=["model_file", "input", "output", "n", "label_counts"])


@app.command()
def info(model_file: Path = typer.Argument(..., help="A model file written by digitlab.", metavar="MODEL_FILE"),
         as_json: bool = JsonOpt) -> None:
    """Describe a saved model: what it is, its parameters, training data and test figures."""
    from ..tasks.info import info as model_info

    out = Output(as_json)
    result = model_info(model_file)
    out.result(result, title=str(model_file), keys=[k for k in result if k != "layers"])
    if not as_json and "layers" in result:
        out.table(result["layers"], ["layer", "output shape", "parameters"], title="Layers")


@app.command()
def leaderboard(
    runs: Optional[Path] = RunsOpt,
    sort: str = typer.Option("test_accuracy", "--sort", help="Column to rank by: best first for figures, fastest "
                             "first for seconds, A to Z for text."),
    show_all: bool = typer.Option(False, "--all", help="Also list failed and unfinished runs and galleries."),
    as_json: bool = JsonOpt,
) -> None:
    """All runs as one table: model, dataset, params, train and test accuracy, times, date."""
    from ..ranking import leaderboard as ranked
    from ..runs import runs_root

    out = Output(as_json)
    rows = ranked(runs, sort_by=sort, include_all=show_all)
    if as_json:
        out.result({"runs": rows})
    elif not rows:
        out.say(f"No runs in {runs_root(runs)} yet: `digitlab train knn-fast` or `make demo` makes some.")
    else:
        show_leaderboard(out, rows, f"Leaderboard ({runs_root(runs)})")


def show_leaderboard(out: Output, rows: list[dict], title: str) -> None:
    """The leaderboard as a table, with only the columns some run has a value for (status: when not all
    complete); the run folder's name is in ``--json``, the date tells runs apart here."""
    from ..ranking import COLUMNS

    shown = {key: header for key, header in COLUMNS.items()
             if key != "run" and any(row.get(key) not in (None, {}) for row in rows)
             and (key != "status" or any(row["status"] != "complete" for row in rows))}
    out.table(rows, list(shown), title=title, headers=shown)


@app.command()
@with_options("dataset", "data_dir", "seed", "runs", "as_json", "quiet")
def demo(o: Options = None) -> None:
    """The main job: a lineup of models on the best data found, a leaderboard and its charts."""
    from .. import demo as lineup
    from ..runs import runs_root

    out = Output(o.as_json, o.quiet)
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    root = runs_root(o.runs)
    out.info(f"[bold]digitlab demo[/] on {data.name} ({len(data.X_train):,} train / {len(data.X_test):,} test "
             f"images, from {data.source}); runs in {root}")
    with out.working("demo", total=len(lineup.LINEUP)) as step:
        def report(model: str, result) -> None:
            m = result.metrics
            figure = f"test accuracy {m['test_accuracy']:.4f}" if "test_accuracy" in m else f"PSNR {m['psnr']:.2f} dB"
            out.info(f"  {model:<14} {figure}   fit {m['fit_seconds']:.1f} s, predict {m['predict_seconds']:.1f} s")
            step(1)

        rows, summary, index = lineup.run_demo(data, root, o.seed, report)
    if o.as_json:
        out.result({"dataset": data.name, "runs": rows, "plots": [str(p) for p in sorted(summary.glob("*.png"))],
                    "report": str(index)})
        return
    show_leaderboard(out, rows, f"Leaderboard ({root})")
    out.info(f"plots: {summary}/leaderboard.png, {summary}/test-digits.png")
    out.say(f"report: {index}")
