"""One page per run: what was asked (configuration, parameters), what was measured (every scalar figure,
per-class scores, training history, search candidates, the denoiser's PSNR beside its input's) and every chart
the run drew, copied next to the page; a chart the run lacks is drawn from its metrics where they hold it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from ..runs import Run
from ._blocks import (Figure, Section, Table, fmt, fmt_param, fmt_seconds, is_number, is_scalar, pairs_table,
                      records_table)
from ._site import Site

# The figures shown at the top of a page, when the run has them.
HEADLINE = {"test_accuracy": "test accuracy", "train_accuracy": "train accuracy", "cv_accuracy": "CV accuracy",
            "f1_macro": "F1 macro", "test_f1_macro": "test F1 macro", "roc_auc": "ROC AUC", "psnr": "PSNR (dB)",
            "noisy_psnr": "noisy input PSNR (dB)", "ssim": "SSIM", "fit_seconds": "fit seconds",
            "predict_seconds": "predict seconds"}
NOT_METRICS = ("run", "status", "error", "interrupted", "kind", "plots", "labels")  # said elsewhere on the page
SCORES = {"label": "class", "precision": "precision", "recall": "recall", "f1": "F1", "support": "support"}
HISTORY = {"epoch": "epoch", "loss": "training loss", "val_loss": "validation loss", "val_score": "validation score",
           "lr": "learning rate", "seconds": "seconds"}
CANDIDATES = {"rank": "rank", "params": "parameters", "mean_cv_accuracy": "mean CV accuracy",
              "std_cv_accuracy": "std over folds", "fold_accuracy": "fold accuracies",
              "mean_fit_seconds": "mean fit seconds"}
CONTENDER = {"cv_accuracy": "CV accuracy", "precision": "precision", "recall": "recall", "f1": "F1",
             "roc_auc": "ROC AUC", "threshold": "threshold for the target precision",
             "precision_at_threshold": "precision at that threshold", "recall_at_threshold": "recall at that threshold",
             "fit_seconds": "fit seconds", "predict_seconds": "predict seconds"}
ON_TRAIN_SPLIT = ("binary", "multiclass", "multilabel")  # kinds whose per-class figures are cross-validated


@dataclass
class Page:
    name: str  # the run folder's name
    slug: str  # the page's folder under runs/ in the report
    title: str
    kind: str
    status: str
    error: str | None
    folder: str
    started: str | None
    headline: list[tuple[str, str]]
    sections: list[Section]

    @property
    def href(self) -> str:
        return f"runs/{quote(self.slug)}/index.html"


class RunFiles:
    """A run's figures and configuration, and its PNGs: each copied into the report when a section shows it."""

    def __init__(self, run: Run, site: Site, slug: str):
        self.data = run.read()  # a DigitlabError naming the file when it cannot be read
        self.config = _object(run.file("config.json"))
        self.metrics = _object(run.file("metrics.json"))
        self.kind = str(self.data.get("kind") or "")
        self.site, self.slug = site, slug
        self.pngs = {p.name: p for p in sorted(run.path.glob("*.png")) if p.is_file() and not p.name.startswith(".")}
        self.names = set(self.pngs)

    def shown(self, name: str, title: str, caption: str | None = None, wide: bool = False) -> Figure | None:
        """The run's PNG ``name`` copied beside the page, once; None when the run has no such file."""
        source = self.pngs.pop(name, None)
        if source is None:
            return None
        self.site.copy(source, f"runs/{self.slug}/{name}")
        return Figure(title, quote(name), caption, wide)

    def drawn(self, name: str, title: str, draw: Callable[[Any], Any], figsize: tuple[float, float],
              caption: str | None = None) -> Figure:
        """A figure drawn here by ``draw(ax)``, on a figure made without pyplot (a notebook's display stays)."""
        from matplotlib.figure import Figure as MplFigure

        while name in self.names:
            name = "drawn-" + name
        self.names.add(name)
        ax = MplFigure(figsize=figsize, layout="constrained").add_subplot()
        draw(ax)
        self.site.figure(ax.figure, f"runs/{self.slug}/{name}")
        return Figure(title, quote(name), caption)


def _object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_page(run: Run, site: Site, slug: str) -> Page:
    """Copy or draw the run's figures into ``runs/<slug>/`` and describe its page."""
    r = RunFiles(run, site, slug)
    data = r.data
    sections = [section for build in SECTIONS if (section := build(r)) is not None and section.blocks]
    headline = [(label, fmt_seconds(data[key]) if key.endswith("seconds") else fmt(data[key]))
                for key, label in HEADLINE.items() if is_number(data.get(key))]
    model, dataset = data.get("model") or r.kind or "run", data.get("dataset")
    return Page(name=run.name, slug=slug, title=f"{model} on {dataset}" if dataset else str(model), kind=r.kind,
                status=str(data.get("status") or "complete"), error=data.get("error"), folder=str(run.path),
                started=data.get("started"), headline=headline, sections=sections)


def _setup(r: RunFiles) -> Section:
    """What was asked: the configuration, the parameters (and who chose each), and the scalar figures measured."""
    config = [(k, v) for k, v in r.config.items()
              if k not in ("params", "set", "kind") and (is_scalar(v) or isinstance(v, dict))]
    params = r.data.get("params") if isinstance(r.data.get("params"), dict) else {}
    given = {**(r.config.get("set") or {}), **(r.config.get("fixed_params") or {})}
    searched = r.data.get("best_params") if isinstance(r.data.get("best_params"), dict) else {}
    origin = {k: "search" if k in searched else "given" if k in given else "default" for k in params}
    rows = [[k, fmt_param(v), *([origin[k]] if given or searched else [])] for k, v in params.items()]
    param_table = Table("Parameters", ["", "value", "from"] if given or searched else None, rows,
                        [False] * 3) if rows else None
    measured = [(k, Path(v).name if k == "model_file" and isinstance(v, str) else v) for k, v in r.metrics.items()
                if k not in NOT_METRICS and is_scalar(v) and r.config.get(k, object()) != v]
    return Section("Configuration and figures", [t for t in (pairs_table("Configuration", config), param_table,
                                                             pairs_table("Figures measured", measured)) if t])


def _denoising(r: RunFiles) -> Section | None:
    m = r.data
    if "psnr" not in m and "denoise.png" not in r.pngs:
        return None
    rows = [[label, fmt(m.get(f"noisy_{key}")), fmt(m.get(key))] for key, label in
            (("psnr", "PSNR (dB), higher is cleaner"), ("rmse", "RMSE (0..255), lower is better"), ("ssim", "SSIM"))
            if m.get(key) is not None]
    table = Table("The noisy input against the cleaned images", ["", "noisy input", "cleaned"], rows,
                  [False, True, True], note=f"{fmt(m.get('n_test'))} test images with {m.get('noise', 'the')} noise.")
    grid = r.shown("denoise.png", "Noisy input, cleaned and truth", "Each row one test digit: the noisy input, the "
                   "denoiser's output, the clean original and their difference.", wide=True)
    return Section("Denoising", [b for b in (table if rows else None, grid) if b])


def _search(r: RunFiles) -> Section | None:
    results = r.data.get("results")
    if not isinstance(results, list):
        return None
    chart = r.shown("search_results.png", "Cross-validated accuracy of each candidate", wide=True)
    table = records_table("Candidates, best first", results, CANDIDATES)
    return Section("Search", [b for b in (chart, table) if b],
                   intro=f"{fmt(r.data.get('n_candidates'))} candidates, {fmt(r.data.get('cv'))}-fold cross-validation; "
                         f"the best refit on the whole train split.")


def _contenders(r: RunFiles) -> Section | None:
    """A binary run's model beside the model it is compared with and the never-this-digit baseline."""
    m = r.data
    if r.kind != "binary":
        return None
    others = [m["compare"]] if isinstance(m.get("compare"), dict) else []
    names = [str(m.get("model")), *(str(o.get("model")) for o in others), "never (baseline)"]
    rows = [[label, *(fmt(o.get(key)) for o in (m, *others)), fmt(m.get("baseline_cv_accuracy"))
             if key == "cv_accuracy" else ""] for key, label in CONTENDER.items()]
    table = Table("The model against the other and the baseline", ["", *names], rows,
                  [False] + [True] * len(names), note=f"digit {m.get('digit')} against the rest, "
                  f"{fmt(m.get('cv'))}-fold cross-validation, target precision {fmt(m.get('target_precision'))}.")
    curves = [r.shown(name, title) for name, title in (
        ("precision_recall_vs_threshold.png", "Precision and recall against the threshold"),
        ("precision_vs_recall.png", "Precision against recall"), ("roc_curves.png", "ROC curves"))]
    return Section(f"{m.get('digit')} against the rest", [table, *(c for c in curves if c)])


def _per_class(r: RunFiles) -> Section | None:
    m = r.data
    split = ("cross-validated predictions on the train split" if r.kind in ON_TRAIN_SPLIT else "the test split")
    per = "label" if r.kind == "multilabel" else "class"
    blocks = [records_table(f"Precision, recall and F1 per {per}", m.get("per_class") or m.get("per_label") or [],
                            {**SCORES, "label": per})]
    blocks.append(r.shown("confusion_matrix.png", "Confusion matrix", "Rows: actual, columns: predicted.")
                  or _drawn_confusion(r))
    blocks.append(r.shown("multilabel_confusion.png", "Each label's confusion matrix", wide=True))
    blocks.append(r.shown("test_confusion_matrix.png", "Confusion matrix of the best candidate on the test split"))
    blocks.append(records_table("Most confused", m.get("most_confused") or [],
                                {"actual": "actual", "predicted": "predicted as", "count": "images"}))
    return Section(f"Per {per}", [b for b in blocks if b], intro=f"From {split}.")


def _drawn_confusion(r: RunFiles) -> Figure | None:
    from ..evaluation import plots

    matrix = r.data.get("confusion_matrix")
    if not isinstance(matrix, list) or not matrix:
        return None
    labels = r.data.get("labels") if isinstance(r.data.get("labels"), list) else list(range(len(matrix)))
    if r.kind == "binary":
        labels = [f"not {r.data.get('digit')}", str(r.data.get("digit"))]
    size = max(4.5, 0.6 * len(labels) + 2)
    return r.drawn("confusion_matrix.png", "Confusion matrix", lambda ax: plots.confusion(
        matrix, labels, ax=ax, title="Confusion matrix", xlabel="Predicted", ylabel="Actual"), (size + 1, size),
        "Rows: actual, columns: predicted (drawn from the run's metrics).")


def _errors(r: RunFiles) -> Section | None:
    blocks = [r.shown("misclassified.png", "Misclassified test digits", "Each digit with its true label, the "
                      "model's prediction and, when the model gives probabilities, its confidence.", wide=True),
              r.shown("error_matrix.png", "Where the errors go", "Row-normalised confusion matrix, diagonal zeroed.")]
    for name in sorted(r.pngs):
        if pair := re.fullmatch(r"errors_(\d)_(\d)\.png", name):
            blocks.append(r.shown(name, f"{pair[1]}s and {pair[2]}s, by actual (rows) and predicted (columns)"))
    return Section("Errors", [b for b in blocks if b])


def _training(r: RunFiles) -> Section | None:
    from ..evaluation import plots

    history = r.data.get("history")
    if not isinstance(history, list) or not history:
        return None
    score = "validation score (-MSE)" if r.kind == "denoise" else "validation accuracy"
    chart = r.shown("history.png", "Loss and validation score per epoch") or r.drawn(
        "history.png", "Loss and validation score per epoch",
        lambda ax: plots.training_history(history, metric_name=score, ax=ax, title="Training"), (8, 4.8),
        "Drawn from the run's metrics.")
    return Section("Training", [chart, records_table("Per epoch", history, HISTORY)])


def _other(r: RunFiles) -> Section | None:
    """Every PNG of the run no section above showed."""
    return Section("Other figures", [r.shown(name, name) for name in sorted(r.pngs)])


# The sections of a page, in order; each returns None (or no blocks) when the run has nothing for it.
SECTIONS: tuple[Callable[[RunFiles], Section | None], ...] = (
    _setup, _denoising, _search, _contenders, _per_class, _errors, _training, _other)
