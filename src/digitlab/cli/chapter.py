"""Commands of the classification chapter (seed 002, with seeds 003 and 004): binary, multiclass,
multilabel, search and show. Each parses its options, loads the data, calls the task in
``digitlab.tasks`` and writes a run folder with config.json, metrics.json and PNG plots.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
import typer

from .._version import __version__
from ..errors import UsageError
from ..models import registry
from ..runs import Run, new_run
from ..tasks.train import subset
from .common import (DataDirOpt, DatasetOpt, JsonOpt, Output, QuietOpt, RunsOpt, SeedOpt, SetOpt, app, load_data,
                     parse_sets)

NTrainOpt = typer.Option(None, "--n-train", help="Use the first N training images (for speed).")
CvOpt = typer.Option(3, "--cv", help="Number of cross-validation folds (stratified, in order, as scikit-learn's cv=N).")


def _first(X, y, n: int | None):
    """The first ``n`` training images (all when None); cross-validation needs at least two."""
    return subset(X, y, n, "--n-train", minimum=2)


def _classifier(name: str, option: str) -> str:
    spec = registry.get(name)
    if spec.task != "classify":
        raise UsageError(f"{option} {name!r} is a denoiser, not a classifier; see `digitlab models --task classify`.")
    return name


def _public(result: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The result without the per-image arrays kept for plots; small matrices become lists."""
    out = {}
    for key, value in result.items():
        if key in drop:
            continue
        if isinstance(value, dict):
            value = _public(value, drop)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        out[key] = value
    return out


def _start(kind: str, label: str, runs: Optional[Path], config: dict[str, Any]) -> Run:
    run = new_run(kind, label, runs)
    run.write_config({"kind": kind, **config, "digitlab": __version__})
    return run


def _finish(run: Run, out: Output, metrics: dict[str, Any], plots: list[Path]) -> dict[str, Any]:
    metrics = {"run": str(run.path), **metrics, "plots": [p.name for p in plots]}
    run.write_metrics(metrics)
    out.info(f"run folder: {run.path}")
    for p in plots:
        out.info(f"  plot: {p.name}")
    return metrics


@contextlib.contextmanager
def _working(out: Output, description: str) -> Iterator[Any]:
    """A progress display, with scikit-learn's repeated convergence warnings folded into one line."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        with out.progress(description) as step:
            yield step
    unconverged = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            unconverged += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if unconverged:
        out.warn(f"{unconverged} fit(s) stopped at max_iter before converging; the figures are those of the "
                 f"stopped models (--set max_iter=N allows more iterations).")


def _common_config(data, n_train, seed) -> dict[str, Any]:
    return {"dataset": data.name, "data_source": data.source, "n_train": n_train, "seed": seed}


# ----------------------------------------------------------------------------- binary


@app.command()
def binary(
    digit: int = typer.Option(5, "--digit", help="The digit to detect against all others (0-9)."),
    model: str = typer.Option("sgd", "--model", "-m", help="Classifier (see `digitlab models`)."),
    compare: str = typer.Option("random-forest", "--compare", help="Second classifier for the ROC chart; 'none' to skip."),
    cv: int = CvOpt,
    target_precision: float = typer.Option(0.9, "--target-precision", help="Precision the threshold must reach."),
    sets: Optional[list[str]] = SetOpt,
    n_train: Optional[int] = NTrainOpt,
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """One digit against the rest: CV accuracy beside the never-this-digit baseline, precision, recall, F1,
    the threshold for a target precision, ROC AUC, and the precision/recall and ROC plots."""
    from ..evaluate import plots
    from ..tasks.binary import binary as run_binary, check_target_precision
    from ..tasks.multiclass import check_cv, check_digit

    out = Output(as_json, quiet)
    check_digit(digit)
    check_target_precision(target_precision)
    check_cv(cv)
    _classifier(model, "--model")
    compare_name = None if compare.lower() in ("none", "") else _classifier(compare, "--compare")
    params = parse_sets(sets)
    data = load_data(dataset, data_dir, out, seed)
    X, y = _first(data.X_train, data.y_train, n_train)
    with _working(out, f"{digit}-vs-rest: {model}") as step:
        result = run_binary(X, y, digit, model, compare_name, cv, target_precision, params=params, seed=seed,
                            step=step)
    run = _start("binary", f"{model}-{digit}-{data.name}", runs,
                 {**_common_config(data, n_train, seed), "digit": digit, "model": model, "compare": compare_name,
                  "cv": cv, "target_precision": target_precision, "params": result["params"]})
    y_true = result["y_true"]
    curves = [{"name": model, "y_true": y_true, "scores": result["scores"], "threshold": result["threshold"],
               "point": (result["recall_at_threshold"], result["precision_at_threshold"])}]
    if compare_name:
        c = result["compare"]
        curves.append({"name": compare_name, "y_true": y_true, "scores": c["scores"], "threshold": c["threshold"],
                       "point": (c["recall_at_threshold"], c["precision_at_threshold"])})
    score_label = ("decision function threshold" if result["score_method"] == "decision_function"
                   else "probability threshold")
    made = [
        plots.precision_recall_vs_threshold(
            y_true, result["scores"], run.file("precision_recall_vs_threshold.png"), result["threshold"],
            target_precision, title=f"{model}, {digit} vs rest: precision and recall against the threshold "
                                    f"({cv}-fold CV)", score_label=score_label),
        plots.precision_vs_recall(curves, run.file("precision_vs_recall.png"),
                                  title=f"{digit} vs rest: precision against recall ({cv}-fold CV)"),
        plots.roc_curves(curves, run.file("roc_curves.png"), title=f"{digit} vs rest: ROC curves ({cv}-fold CV)"),
        plots.confusion(result["confusion_matrix"], [f"not {digit}", str(digit)], run.file("confusion_matrix.png"),
                        title=f"{model}, {digit} vs rest: confusion matrix ({cv}-fold CV predictions)"),
    ]
    metrics = _finish(run, out, {"kind": "binary", "dataset": data.name,
                                 **_public(result, ("scores", "y_true"))}, made)
    if as_json:
        out.result(metrics)
        return
    cols = ["model", "cv_accuracy", "precision", "recall", "f1", "roc_auc", "threshold", "precision_at_threshold",
            "recall_at_threshold"]
    rows = [metrics] + ([metrics["compare"]] if compare_name else [])
    rows.append({"model": "never (baseline)", "cv_accuracy": metrics["baseline_cv_accuracy"]})
    out.table(rows, cols, title=f"{digit} vs rest on {data.name} ({len(y):,} images, {cv}-fold CV, "
                                f"target precision {target_precision:g})")


# ----------------------------------------------------------------------------- multiclass


@app.command()
def multiclass(
    model: str = typer.Option("sgd", "--model", "-m", help="Classifier: sgd, sgd-scaled, svc, ovr-svc, random-forest, knn, ..."),
    cv: int = CvOpt,
    pair: str = typer.Option("3,5", "--pair", help="Two classes whose errors to show as the seed's four grids."),
    sets: Optional[list[str]] = SetOpt,
    n_train: Optional[int] = NTrainOpt,
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """All ten classes: CV accuracy, per-class precision and recall, test accuracy, confusion and error
    matrices and the error gallery of two classes."""
    from ..evaluate import plots
    from ..tasks.multiclass import check_cv, multiclass as run_multiclass, parse_pair

    out = Output(as_json, quiet)
    check_cv(cv)
    a, b = parse_pair(pair)
    _classifier(model, "--model")
    params = parse_sets(sets)
    data = load_data(dataset, data_dir, out, seed)
    X, y = _first(data.X_train, data.y_train, n_train)
    with _working(out, f"multiclass: {model}") as step:
        result = run_multiclass(X, y, data.X_test, data.y_test, model, params, cv, (a, b), seed, step)
    run = _start("multiclass", f"{model}-{data.name}", runs,
                 {**_common_config(data, n_train, seed), "model": model, "cv": cv, "pair": [a, b],
                  "params": result["params"]})
    labels = result["labels"]
    made = [
        plots.confusion(result["confusion_matrix"], labels, run.file("confusion_matrix.png"),
                        title=f"{model} on {data.name}: confusion matrix ({cv}-fold CV predictions)",
                        xlabel="Predicted digit", ylabel="Actual digit"),
        plots.error_matrix(result["error_matrix"], labels, run.file("error_matrix.png"),
                           title=f"{model}: errors per actual digit (row-normalised, diagonal zeroed)",
                           xlabel="Predicted digit", ylabel="Actual digit"),
        plots.error_gallery(X, y, result["cv_predictions"], a, b, run.file(f"errors_{a}_{b}.png"),
                            title=f"{model}: {a}s and {b}s by actual (rows) and CV prediction (columns)"),
    ]
    metrics = _finish(run, out, {"kind": "multiclass", "dataset": data.name,
                                 **_public(result, ("cv_predictions",))}, made)
    if as_json:
        out.result(metrics)
        return
    out.table(metrics["per_class"], ["label", "precision", "recall", "f1", "support"],
              title=f"{model}: per-class scores ({cv}-fold CV on {len(y):,} training images)")
    out.result(metrics, title=f"{model} on {data.name}",
               keys=["model", "params", "cv_accuracy", "train_accuracy", "test_accuracy", "fit_seconds",
                     "predict_seconds", "run"])


# ----------------------------------------------------------------------------- multilabel


@app.command()
def multilabel(
    model: str = typer.Option("knn", "--model", "-m", help="Classifier; k-NN and random forest take both labels at once."),
    cv: int = CvOpt,
    sets: Optional[list[str]] = SetOpt,
    n_train: Optional[int] = NTrainOpt,
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Two labels per digit (>= 7, odd), predicted together: F1 macro and weighted by CV, then on the test split."""
    from ..evaluate import plots
    from ..tasks.multiclass import check_cv
    from ..tasks.multilabel import multilabel as run_multilabel

    out = Output(as_json, quiet)
    check_cv(cv)
    _classifier(model, "--model")
    params = parse_sets(sets)
    data = load_data(dataset, data_dir, out, seed)
    X, y = _first(data.X_train, data.y_train, n_train)
    with _working(out, f"multilabel: {model}") as step:
        result = run_multilabel(X, y, data.X_test, data.y_test, model, params, cv, seed, step)
    run = _start("multilabel", f"{model}-{data.name}", runs,
                 {**_common_config(data, n_train, seed), "model": model, "cv": cv, "labels": result["labels"],
                  "params": result["params"]})
    made = [
        plots.multilabel_confusion(result["Y_true"], result["cv_predictions"], result["labels"],
                                   run.file("multilabel_confusion.png"),
                                   title=f"{model}: each label's confusion matrix ({cv}-fold CV predictions, "
                                         f"F1 macro {result['f1_macro']:.4f})"),
    ]
    metrics = _finish(run, out, {"kind": "multilabel", "dataset": data.name,
                                 **_public(result, ("Y_true", "cv_predictions", "Y_test", "test_predictions"))},
                      made)
    if as_json:
        out.result(metrics)
        return
    out.table(metrics["per_label"], ["label", "precision", "recall", "f1", "support"],
              title=f"{model}: per-label scores ({cv}-fold CV on {len(y):,} training images)")
    out.result(metrics, title=f"{model} on {data.name}",
               keys=["model", "f1_macro", "f1_weighted", "cv_exact_match", "test_f1_macro", "test_f1_weighted",
                     "test_exact_match", "fit_seconds", "predict_seconds", "run"])


# ----------------------------------------------------------------------------- search


@app.command()
def search(
    model: str = typer.Argument(..., help="Classifier to tune (see `digitlab models`)."),
    grid: Optional[str] = typer.Option(None, "--grid", "--space",
                                       help="Search space: 'n_neighbors=3,4,5 weights=uniform,distance'; with "
                                            "--random also loguniform:LOW,HIGH, uniform:LOW,HIGH, randint:LOW,HIGH."),
    random: Optional[int] = typer.Option(None, "--random", help="Randomized search: draw N candidates from --grid."),
    cv: int = typer.Option(5, "--cv", help="Number of cross-validation folds (stratified, in order, as scikit-learn's cv=N)."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Fits run at once (-1: all cores)."),
    sets: Optional[list[str]] = SetOpt,
    n_train: Optional[int] = NTrainOpt,
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Grid or randomized search with cross-validation; the best candidate is refit, tested and saved as a run."""
    from ..evaluate import plots
    from ..models import persist
    from ..tasks.multiclass import check_cv
    from ..tasks.search import parse_distributions, parse_grid, search as run_search

    out = Output(as_json, quiet)
    check_cv(cv)
    _classifier(model, "--model")
    if not grid:
        raise UsageError("Give the search space with --grid, e.g. --grid 'n_neighbors=3,4,5 weights=uniform,distance'.")
    if random is not None and random < 1:
        raise UsageError(f"--random must be a number of candidates of at least 1, got {random}.")
    if random is None:
        space, dists = parse_grid(grid, model), None
    else:
        space, dists = None, parse_distributions(grid, model)
    params = parse_sets(sets)
    data = load_data(dataset, data_dir, out, seed)
    X, y = _first(data.X_train, data.y_train, n_train)
    with _working(out, f"search: {model}") as step:
        result = run_search(X, y, data.X_test, data.y_test, model, grid=space, distributions=dists, n_iter=random,
                            cv=cv, n_jobs=n_jobs, seed=seed, params=params, step=step)
    run = _start("search", f"{model}-{data.name}", runs,
                 {**_common_config(data, n_train, seed), "model": model, "strategy": result["strategy"],
                  "space": result["space"], "n_iter": random, "cv": cv, "n_jobs": n_jobs, "fixed_params": params})
    labels = [int(v) for v in np.unique(data.y_test)]
    made = [
        plots.search_results(result["results"], run.file("search_results.png"), result["test_accuracy"],
                             title=f"{model} {result['strategy']} search on {data.name}: {cv}-fold CV accuracy"),
        plots.confusion(_test_confusion(result, data.y_test, labels), labels, run.file("test_confusion_matrix.png"),
                        title=f"{model} (best candidate) on the test split: confusion matrix",
                        xlabel="Predicted digit", ylabel="Actual digit"),
    ]
    meta = {"model": model, "task": "classify", "params": result["params"], "dataset": data.name,
            "n_train": result["n_train"], "seed": seed, "test_accuracy": result["test_accuracy"],
            "train_accuracy": result["train_accuracy"], "digitlab": __version__}
    model_file = persist.save(result["estimator"], run.file("model"), meta)
    metrics = _finish(run, out, {"kind": "search", "dataset": data.name,
                                 **_public(result, ("estimator", "test_predictions")),
                                 "model_file": str(model_file)}, made)
    if as_json:
        out.result(metrics)
        return
    rows = [{"rank": r["rank"], **{f"{k}": v for k, v in r["params"].items()}, "mean_cv_accuracy": r["mean_cv_accuracy"],
             "std": r["std_cv_accuracy"], "fit_s": r["mean_fit_seconds"]} for r in metrics["results"]]
    keys = list(metrics["results"][0]["params"]) if metrics["results"] else []
    out.table(rows, ["rank", *keys, "mean_cv_accuracy", "std", "fit_s"],
              title=f"{model}: {result['n_candidates']} candidates, {cv}-fold CV on {len(y):,} images")
    out.result(metrics, title=f"{model}: best candidate",
               keys=["best_params", "best_cv_accuracy", "train_accuracy", "test_accuracy", "fit_seconds",
                     "predict_seconds", "model_file", "run"])


def _test_confusion(result, y_test, labels):
    from ..evaluate.metrics import confusion_matrix

    return confusion_matrix(y_test, result["test_predictions"], labels)


# ----------------------------------------------------------------------------- show


@app.command()
def show(
    n: int = typer.Option(100, "--n", help="How many digits to show."),
    split: str = typer.Option("train", "--split", help="train or test."),
    noise: Optional[str] = typer.Option(None, "--noise", help="Also show noisy/clean pairs: uniform:HIGH, "
                                                              "gaussian:SIGMA or saltpepper:P."),
    per_row: int = typer.Option(10, "--per-row", help="Digits per row."),
    dataset: Optional[str] = DatasetOpt,
    data_dir: Optional[Path] = DataDirOpt,
    seed: int = SeedOpt,
    runs: Optional[Path] = RunsOpt,
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Write a PNG gallery of the first N digits with their labels (and noisy/clean pairs with --noise)."""
    from ..evaluate import plots

    out = Output(as_json, quiet)
    if n < 1:
        raise UsageError(f"--n must be at least 1, got {n}.")
    if per_row < 1:
        raise UsageError(f"--per-row must be at least 1, got {per_row}.")
    if split not in ("train", "test"):
        raise UsageError(f"--split {split!r} is not one of: train, test.")
    noise_model = None
    if noise:
        from ..data.noise import parse_noise

        noise_model = parse_noise(noise)
    data = load_data(dataset, data_dir, out, seed)
    X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
    X, y = X[:n], y[:n]
    names = [data.classes[int(v)] if int(v) < len(data.classes) else str(int(v)) for v in y]
    run = _start("show", f"{data.name}-{split}", runs,
                 {"dataset": data.name, "data_source": data.source, "split": split, "n": n, "noise": noise,
                  "seed": seed})
    made = [plots.digit_gallery(X, run.file("digits.png"), labels=names, per_row=per_row,
                                title=f"{data.name}: the first {len(X)} {split} images with their labels")]
    if noise_model is not None:
        noisy = noise_model.apply(X, seed)
        made.append(plots.noisy_pairs(X, noisy, run.file("noisy_pairs.png"), labels=names, n=min(len(X), per_row),
                                      title=f"{data.name}: clean (top) and with {noise} noise (bottom)"))
    counts = {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))}
    metrics = _finish(run, out, {"kind": "show", "dataset": data.name, "split": split, "n": int(len(X)),
                                 "noise": noise, "label_counts": counts}, made)
    out.result(metrics, title=f"{data.name} gallery", keys=["dataset", "split", "n", "noise", "plots", "run"])
