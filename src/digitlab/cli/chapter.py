"""Commands of the classification chapter: binary, multiclass, multilabel, search and show.

Each parses its options, loads the data, calls the task of the same name in ``digitlab.tasks`` (which writes
the run folder: its configuration, figures and PNG charts) and renders the result it returns.
"""

from __future__ import annotations

from typing import Optional

import typer

from ..runs import runs_root
from .common import Options, Output, app, load_data, parse_sets, with_options

CvOpt = typer.Option(3, "--cv", help="Number of cross-validation folds (stratified, in order, as scikit-learn's cv=N).")
# The shared options of every chapter command (see common.SHARED), after each command's own.
CHAPTER = ("sets", "n_train", "n_jobs", "scheduler", "dataset", "data_dir", "seed", "runs", "as_json", "quiet")
PER_CLASS = ["label", "precision", "recall", "f1", "support"]


def _task_options(o: Options, out: Output, step) -> dict:
    """The keyword arguments every chapter task takes from the shared options."""
    return {"params": parse_sets(o.sets), "n_train": o.n_train, "seed": o.seed, "n_jobs": o.n_jobs,
            "scheduler": o.scheduler or None, "runs": runs_root(o.runs), "progress": step}


def _render(out: Output, result, tables: list[tuple[list[dict], list[str], str]], title: str, keys: list[str]) -> None:
    """The result's warnings, then JSON, or each (rows, columns, title) table and the main figures."""
    out.notes(result)
    if out.as_json:
        out.result(result.metrics)
        return
    for rows, columns, table_title in tables:
        out.table(rows, columns, title=table_title)
    if keys:
        out.result(result.metrics, title=title, keys=keys)


@app.command()
@with_options(*CHAPTER)
def binary(
    digit: int = typer.Option(5, "--digit", help="The digit to detect against all others (0-9)."),
    model: str = typer.Option("sgd", "--model", "-m", help="Classifier (see `digitlab models`)."),
    compare: str = typer.Option("random-forest", "--compare", help="Second classifier for the ROC chart; 'none' to skip."),
    cv: int = CvOpt,
    target_precision: float = typer.Option(0.9, "--target-precision", help="Precision the threshold must reach."),
    o: Options = None,
) -> None:
    """One digit against the rest: CV accuracy beside the never-this-digit baseline, precision, recall, F1,
    the threshold for a target precision, ROC AUC, and the precision/recall and ROC charts."""
    from ..tasks.binary import binary as run_binary

    out = Output(o.as_json, o.quiet)
    compare_name = None if compare.lower() in ("none", "") else compare
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    with out.working(f"{digit}-vs-rest: {model}") as step:
        result = run_binary(data, digit=digit, model=model, compare=compare_name, cv=cv,
                            target_precision=target_precision, **_task_options(o, out, step))
    m = result.metrics
    rows = [m] + ([m["compare"]] if compare_name else [])
    rows.append({"model": "never (baseline)", "cv_accuracy": m["baseline_cv_accuracy"]})
    _render(out, result, [(rows, ["model", "cv_accuracy", "precision", "recall", "f1", "roc_auc", "threshold",
                                  "precision_at_threshold", "recall_at_threshold"],
                           f"{digit} vs rest on {m['dataset']} ({m['n_train']:,} images, {cv}-fold CV, "
                           f"target precision {target_precision:g})")], "", [])


@app.command()
@with_options(*CHAPTER)
def multiclass(
    model: str = typer.Option("sgd", "--model", "-m", help="Classifier: sgd, sgd-scaled, svc, ovr-svc, random-forest, knn, ..."),
    cv: int = CvOpt,
    pair: str = typer.Option("3,5", "--pair", help="Two digits whose errors to show as the notebook's four grids."),
    o: Options = None,
) -> None:
    """All ten classes: CV accuracy, per-class precision and recall, test accuracy, confusion and error
    matrices and the error gallery of two classes."""
    from ..tasks.multiclass import multiclass as run_multiclass

    out = Output(o.as_json, o.quiet)
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    with out.working(f"multiclass: {model}") as step:
        result = run_multiclass(data, model=model, cv=cv, pair=pair, **_task_options(o, out, step))
    m = result.metrics
    _render(out, result, [(m["per_class"], PER_CLASS,
                           f"{model}: per-class scores ({cv}-fold CV on {m['n_train']:,} training images)")],
            f"{model} on {m['dataset']}", ["model", "params", "cv_accuracy", "train_accuracy", "test_accuracy",
                                            "fit_seconds", "predict_seconds", "run"])


@app.command()
@with_options(*CHAPTER)
def multilabel(
    model: str = typer.Option("knn", "--model", "-m", help="Classifier; k-NN and random forest take both labels at once."),
    cv: int = CvOpt,
    o: Options = None,
) -> None:
    """Two labels per digit (>= 7, odd), predicted together: F1 macro and weighted by CV, then on the test split."""
    from ..tasks.multilabel import multilabel as run_multilabel

    out = Output(o.as_json, o.quiet)
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    with out.working(f"multilabel: {model}") as step:
        result = run_multilabel(data, model=model, cv=cv, **_task_options(o, out, step))
    m = result.metrics
    _render(out, result, [(m["per_label"], PER_CLASS,
                           f"{model}: per-label scores ({cv}-fold CV on {m['n_train']:,} training images)")],
            f"{model} on {m['dataset']}", ["model", "f1_macro", "f1_weighted", "cv_exact_match", "test_f1_macro",
                                            "test_f1_weighted", "test_exact_match", "fit_seconds", "predict_seconds",
                                            "run"])


@app.command()
@with_options(*CHAPTER)
def search(
    model: str = typer.Argument(..., help="Classifier to tune (see `digitlab models`).", metavar="MODEL"),
    grid: Optional[str] = typer.Option(None, "--grid", "--space",
                                       help="Search space: 'n_neighbors=3,4,5 weights=uniform,distance'; with "
                                            "--random also loguniform:LOW,HIGH, uniform:LOW,HIGH, randint:LOW,HIGH."),
    random: Optional[int] = typer.Option(None, "--random", help="Randomized search: draw N candidates from --grid."),
    cv: int = typer.Option(5, "--cv", help="Number of cross-validation folds (stratified, in order, as scikit-learn's cv=N)."),
    o: Options = None,
) -> None:
    """Grid or randomized search with cross-validation; the best candidate is refit, tested and saved as a run."""
    from ..tasks.cv import check_cv
    from ..tasks.search import search as run_search
    from ..tasks.search_space import space

    out = Output(o.as_json, o.quiet)
    check_cv(cv)
    space(grid, model, random)  # refuse a bad search space before loading any data
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    with out.working(f"search: {model}") as step:
        result = run_search(model, data, grid=grid, n_iter=random, cv=cv, **_task_options(o, out, step))
    m = result.metrics
    keys = list(m["results"][0]["params"]) if m["results"] else []
    rows = [{"rank": r["rank"], **r["params"], "mean_cv_accuracy": r["mean_cv_accuracy"], "std": r["std_cv_accuracy"],
             "fit_s": r["mean_fit_seconds"]} for r in m["results"]]
    _render(out, result, [(rows, ["rank", *keys, "mean_cv_accuracy", "std", "fit_s"],
                           f"{model}: {m['n_candidates']} candidates, {cv}-fold CV on {m['n_train']:,} images")],
            f"{model}: best candidate", ["best_params", "best_cv_accuracy", "train_accuracy", "test_accuracy",
                                         "fit_seconds", "predict_seconds", "model_file", "run"])


@app.command()
@with_options("dataset", "data_dir", "seed", "runs", "as_json", "quiet")
def show(
    n: int = typer.Option(100, "--n", help="How many digits to show."),
    split: str = typer.Option("train", "--split", help="train or test."),
    noise: Optional[str] = typer.Option(None, "--noise", help="Also show noisy/clean pairs: uniform:HIGH, "
                                                              "gaussian:SIGMA or saltpepper:P."),
    per_row: int = typer.Option(10, "--per-row", help="Digits per row."),
    o: Options = None,
) -> None:
    """Write a PNG gallery of the first N digits with their labels (and noisy/clean pairs with --noise)."""
    from ..tasks.show import show as run_show

    out = Output(o.as_json, o.quiet)
    data = load_data(o.dataset, o.data_dir, out, o.seed)
    result = run_show(data, n=n, split=split, noise=noise, per_row=per_row, seed=o.seed, runs=runs_root(o.runs))
    _render(out, result, [], f"{result.metrics['dataset']} gallery", ["dataset", "split", "n", "noise", "plots", "run"])
