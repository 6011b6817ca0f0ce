"""Core commands: datasets, models, train, denoise, evaluate, predict, info, leaderboard, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .. import runs as runs_mod
from ..errors import DataError, UsageError
from ..models import persist, registry
from .common import (DataDirOpt, DatasetOpt, JsonOpt, Output, QuietOpt, RunsOpt, SeedOpt, SetOpt, app,
                     load_data, parse_sets)


@app.command()
def datasets(data_dir: Optional[Path] = DataDirOpt, as_json: bool = JsonOpt) -> None:
    """List the datasets, where each was found and whether its content was verified."""
    from ..data.datasets import locate_all

    out = Output(as_json)
    rows = [loc.as_dict() for loc in locate_all(data_dir)]
    if as_json:
        out.result({"datasets": rows})
    else:
        out.table(rows, ["name", "found_by", "path", "verified"], title="Datasets")


@app.command()
def models(task: Optional[str] = typer.Option(None, help="classify or denoise"), as_json: bool = JsonOpt) -> None:
    """List the models with their default parameters."""
    out = Output(as_json)
    if task not in (None, "classify", "denoise"):
        raise UsageError(f"--task {task!r} is not one of: classify, denoise.")
    rows = [{"name": name, "task": registry.get(name).task, "summary": registry.get(name).summary,
             "defaults": registry.parameters(name)} for name in registry.names(task)]
    if as_json:
        out.result({"models": rows})
    else:
        out.table(rows, ["name", "task", "summary", "defaults"], title="Models")


EpochsOpt = typer.Option(None, "--epochs", help="Neural models: passes over the training set.")
BatchOpt = typer.Option(None, "--batch-size", help="Neural models: images per optimiser step.")
LrOpt = typer.Option(None, "--lr", help="Neural models: (peak) learning rate.")
ResumeOpt = typer.Option(None, "--resume", help="Continue a neural model's run from its last checkpoint "
                         "(a run folder or its name); the model and data come from that run.")


def _model_params(sets, epochs, batch_size, lr, preset=None) -> dict:
    """--set values, with the neural shorthands --epochs, --batch-size, --lr and --preset on top."""
    params = parse_sets(sets)
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("preset", preset)):
        if value is not None:
            params[key] = value
    return params


def _watch(step, model: str):
    """Turn a neural model's per-batch and per-epoch reports into the progress bar."""
    def watch(info: dict) -> None:
        member = f" member {info['member']}/{info['members']}" if "members" in info else ""
        if info["event"] == "batch":
            step(1, total=info["steps"] * info["epochs"],
                 description=f"{model}{member} epoch {info['epoch']}/{info['epochs']} loss {info['loss']:.4f}")
        elif info["event"] == "epoch" and "val_score" in info:
            step(0, description=f"{model}{member} epoch {info['epoch']}/{info['epochs']} "
                                f"val {info['val_score']:.4f}")
    return watch


def _fit_with_progress(out: Output, task, config, data, runs, resume, label: str) -> dict:
    """Run a train or denoise task under a progress bar, resuming a run when asked."""
    run = runs_mod.find_run(resume, runs) if resume else None
    with out.progress(label) as step:
        result, _ = task(config, data, runs, progress=lambda msg: step(0, description=msg), run=run,
                         watch=_watch(step, config.model))
    if result.get("interrupted"):
        out.warn(f"training was interrupted; the best model so far is saved in {result['run']} "
                 f"(resume with --resume {result['run']}).")
    return result


@app.command()
def train(
    model: Optional[str] = typer.Argument(None, help="Model name (see `digitlab models`)."),
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    sets: Optional[list[str]] = SetOpt,
    augment: Optional[str] = typer.Option(None, "--augment", help="Training-set augmentation: shift."),
    n_train: Optional[int] = typer.Option(None, "--n-train", help="Use the first N training images."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Score on the first N test images."),
    epochs: Optional[int] = EpochsOpt,
    batch_size: Optional[int] = BatchOpt,
    lr: Optional[float] = LrOpt,
    preset: Optional[str] = typer.Option(None, "--preset", help="cnn and cnn-ensemble: standard (accurate, "
                                         "~15 min) or fast (99% in ~20 s)."),
    resume: Optional[str] = ResumeOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    no_save: bool = typer.Option(False, "--no-save", help="Do not write the model file."),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Train a classifier, score it on the test split and save a run folder."""
    from ..tasks.train import TrainConfig, config_of_run, train as run_train

    out = Output(as_json, quiet)
    if resume:
        config = config_of_run(runs_mod.find_run(resume, runs), TrainConfig)
    elif model is None:
        raise UsageError("Name a model to train (see `digitlab models`), or give --resume RUN.")
    else:
        registry.get(model)
        config = TrainConfig(model=model, params=_model_params(sets, epochs, batch_size, lr, preset), augment=augment,
                             n_train=n_train, n_test=n_test, seed=seed, save_model=not no_save)
    data = load_data(config.dataset if resume else dataset, data_dir, out, config.seed)
    config.dataset = data.name
    result = _fit_with_progress(out, run_train, config, data, runs, resume, f"{config.model} on {data.name}")
    out.result(result, title=f"{config.model} on {data.name}",
               keys=["model", "dataset", "params", "n_train", "n_test", "train_accuracy", "test_accuracy",
                     "fit_seconds", "predict_seconds", "run"])


@app.command()
def denoise(
    model: Optional[str] = typer.Argument(None, help="Denoiser name (see `digitlab models --task denoise`); "
                                          "default knn-denoise."),
    noise: str = typer.Option("uniform:100", "--noise", help="uniform:HIGH, gaussian:SIGMA or saltpepper:P."),
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    sets: Optional[list[str]] = SetOpt,
    n_train: Optional[int] = typer.Option(None, "--n-train", help="Use the first N training images."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Clean the first N test images."),
    epochs: Optional[int] = EpochsOpt,
    batch_size: Optional[int] = BatchOpt,
    lr: Optional[float] = LrOpt,
    resume: Optional[str] = ResumeOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    no_save: bool = typer.Option(False, "--no-save", help="Do not write the model file."),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Train a denoiser on noisy train images against clean ones; report RMSE, PSNR, SSIM and a PNG grid."""
    from ..data.noise import parse_noise
    from ..tasks.denoise import DenoiseConfig, denoise as run_denoise
    from ..tasks.train import config_of_run

    out = Output(as_json, quiet)
    if resume:
        config = config_of_run(runs_mod.find_run(resume, runs), DenoiseConfig)
    else:
        model = model or "knn-denoise"
        registry.get(model)
        parse_noise(noise)  # refuse a bad spec before loading any data
        config = DenoiseConfig(model=model, params=_model_params(sets, epochs, batch_size, lr), noise=noise,
                               n_train=n_train, n_test=n_test, seed=seed, save_model=not no_save)
    data = load_data(config.dataset if resume else dataset, data_dir, out, config.seed)
    config.dataset = data.name
    result = _fit_with_progress(out, run_denoise, config, data, runs, resume, f"{config.model} on {config.noise}")
    out.result(result, title=f"{config.model} denoising {config.noise} on {data.name}",
               keys=["model", "noise", "dataset", "n_train", "n_test", "rmse", "psnr", "ssim", "noisy_rmse",
                     "fit_seconds", "predict_seconds", "ms_per_image", "plot", "run"])


@app.command()
def evaluate(
    model_file: Path = typer.Argument(..., help="A model file written by digitlab (.skops or .safetensors)."),
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Score on the first N test images."),
    seed: int = SeedOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Score a saved model on a dataset's test split (the dataset it was trained on by default)."""
    from ..evaluate.metrics import accuracy, denoise_scores
    from ..tasks.denoise import as_pixels, noisy_pair
    from ..tasks.train import subset

    out = Output(as_json, quiet)
    saved = persist.load(model_file)
    data = load_data(dataset or saved.meta.get("dataset"), data_dir, out, seed)
    X_test, y_test = subset(data.X_test, data.y_test, n_test, "--n-test")
    result = {"model_file": str(model_file), "model": saved.meta.get("model"), "dataset": data.name,
              "n_test": int(len(X_test))}
    if saved.meta.get("task") == "denoise":
        _, noisy = noisy_pair(saved.meta["noise"], X_test[:0], X_test, seed)
        cleaned = as_pixels(saved.estimator.predict(noisy))
        result |= {"noise": saved.meta["noise"], **denoise_scores(X_test, noisy, cleaned)}
    else:
        result["test_accuracy"] = accuracy(y_test, saved.estimator.predict(X_test))
    out.result(result, title=f"{model_file}")


@app.command()
def predict(
    model_file: Path = typer.Argument(..., help="A classifier file written by digitlab."),
    input: Path = typer.Option(..., "--input", "-i", help="Kaggle test.csv, an image, or a folder of images."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV to write (ImageId,Label for a Kaggle CSV)."),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Predict labels for a Kaggle test.csv (writes submission.csv) or for PNG/JPEG images."""
    from ..data import images, kaggle
    from ..fileio import atomic_open

    out = Output(as_json, quiet)
    saved = persist.load(model_file)
    if saved.meta.get("task") == "denoise":
        raise UsageError(f"{model_file} is a denoiser; `predict` needs a classifier.")
    if not input.exists():
        raise DataError(f"{input}: no such file or folder.")
    if input.is_file() and input.suffix.lower() == ".csv":
        X = kaggle.read_test_csv(input)
        labels = saved.estimator.predict(X)
        kaggle.write_submission(output, labels)
        names = None
    else:
        X, names = images.load_images(input)
        labels = saved.estimator.predict(X)
        with atomic_open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write("image,label\n")
            fh.writelines(f"{name},{int(label)}\n" for name, label in zip(names, labels))
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10)
    result = {"model_file": str(model_file), "input": str(input), "output": str(output), "n": int(len(labels)),
              "label_counts": {str(d): int(c) for d, c in enumerate(counts)}}
    if names is not None and len(names) <= 20:
        result["predictions"] = {name: int(label) for name, label in zip(names, labels)}
    out.result(result, title="Predictions", keys=["model_file", "input", "output", "n", "label_counts"])


@app.command()
def info(model_file: Path = typer.Argument(..., help="A model file written by digitlab."),
         as_json: bool = JsonOpt) -> None:
    """Describe a saved model: what it is, its parameters, training data and test figures."""
    out = Output(as_json)
    saved = persist.load(model_file)
    result = {"model_file": str(model_file), "class": type(saved.estimator).__name__, **saved.meta}
    if persist.is_net(saved.estimator):
        from ..models.neural import describe_net, training_facts

        result.update(training_facts(saved.estimator))
        result["layers"] = [{"layer": layer, "output shape": "x".join(map(str, shape)), "parameters": count}
                            for layer, shape, count in describe_net(saved.estimator)]
        result["total_parameters"] = sum(row["parameters"] for row in result["layers"])
    out.result(result, title=str(model_file), keys=[k for k in result if k != "layers"])
    if not as_json and "layers" in result:
        out.table(result["layers"], ["layer", "output shape", "parameters"], title="Layers")


@app.command()
def leaderboard(
    runs: Optional[Path] = RunsOpt,
    sort: str = typer.Option("test_accuracy", "--sort", help="Column to rank by, best first."),
    as_json: bool = JsonOpt,
) -> None:
    """All runs as one table: model, dataset, params, train and test accuracy, times."""
    out = Output(as_json)
    if sort not in runs_mod.LEADERBOARD_COLUMNS:
        raise UsageError(f"--sort {sort!r} is not a column; choose one of: {', '.join(runs_mod.LEADERBOARD_COLUMNS)}.")
    rows = runs_mod.leaderboard(runs, sort_by=sort)
    if as_json:
        out.result({"runs": rows})
        return
    show_leaderboard(out, rows, f"Leaderboard ({runs_mod.runs_root(runs)})")


def show_leaderboard(out: Output, rows: list[dict], title: str) -> None:
    """The leaderboard as a table, with only the columns some run has a value for."""
    shown = {key: header for key, header in runs_mod.LEADERBOARD_COLUMNS.items()
             if key != "run" and any(row.get(key) not in (None, {}) for row in rows)}
    out.table(rows, list(shown), title=title, headers=shown)


@app.command()
def demo(
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    runs: Optional[Path] = RunsOpt,
    seed: int = SeedOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """The main job: a lineup of models on the best data found, a leaderboard and plots."""
    from ..demo import LINEUP, run_demo

    out = Output(as_json, quiet)
    data = load_data(dataset, data_dir, out, seed)
    root = runs or runs_mod.runs_root() / "demo"
    out.info(f"[bold]digitlab demo[/] on {data.name} ({len(data.X_train):,} train / {len(data.X_test):,} test "
             f"images, from {data.source}); runs in {root}")
    with out.progress("demo", total=len(LINEUP)) as step:
        def report(model: str, result: dict) -> None:
            figure = (f"test accuracy {result['test_accuracy']:.4f}" if "test_accuracy" in result
                      else f"PSNR {result['psnr']:.2f} dB")
            out.info(f"  {model:<14} {figure}   fit {result['fit_seconds']:.1f} s, "
                     f"predict {result['predict_seconds']:.1f} s")
            step(1)

        rows, summary = run_demo(data, root, seed, report)
    if as_json:
        out.result({"dataset": data.name, "runs": rows, "plots": [str(p) for p in sorted(summary.path.glob("*.png"))]})
        return
    show_leaderboard(out, rows, f"Leaderboard ({root})")
    out.info(f"plots: {summary.path}/leaderboard.png, {summary.path}/test-digits.png")
